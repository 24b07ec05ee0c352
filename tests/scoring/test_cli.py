"""``python -m scoring``: exit codes and output of the command-line contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scoring import decode_sheet
from scoring.cli import main

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

REPO = Path(__file__).resolve().parents[2]
GOOD = {
    "entries": [{"country": "UA", "running_order": 12}, {"country": "GB", "running_order": 22}],
    "votes": [{"from": "AZ", "jury_rankings": [["GB", "UA"]], "televote_counts": {"UA": 5}}],
}


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "scoring", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_a_good_sheet_prints_the_result_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "sheet.json"
    path.write_text(json.dumps(GOOD))
    done = run(str(path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [line["country"] for line in result["scoreboard"]] == ["UA", "GB"]
    assert result["sets"][0] == {"from": "AZ", "body": "jury", "points": {"GB": 12, "UA": 10}}
    assert done.stderr == b""


def test_a_bad_sheet_exits_2_with_one_line_naming_the_field(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["votes"][0]["jury_rankings"] = [["GB", "GB"]]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    done = run(str(path))
    assert done.returncode == 2
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("votes[0].jury_rankings[0][1]: ")


def test_standard_input_and_malformed_json() -> None:
    assert run("-", stdin=json.dumps(GOOD).encode()).returncode == 0
    done = run("-", stdin=b"{not json")
    assert done.returncode == 2
    assert done.stderr.decode().count("\n") == 1 and done.stderr.startswith(b"sheet: ")


def test_a_missing_file_and_bad_usage_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path / "nope.json")]) == 2
    assert capsys.readouterr().err.startswith("sheet: cannot read")
    assert main([]) == 2
    assert main(["--bogus"]) == 2
    assert main(["--from-eurovision-csv", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 3
    assert main(["--help"]) == 0


def test_from_eurovision_csv_scores_a_real_show(
    eurovision_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--from-eurovision-csv", str(eurovision_dir), "--year", "2018", "--round", "final"]
    assert main([*args, "--compact"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["scoreboard"][0]["country"] == "IL" and result["scoreboard"][0]["total"] == 529
    assert main([*args, "--sheet-only", "--official-points"]) == 0
    sheet = decode_sheet(capsys.readouterr().out.encode())
    assert sheet.rules.jury_method == "exponential" and len(sheet.entries) == 26
    assert all(v.jury_points is not None for v in sheet.votes)
    assert main([*args[:-1], "semi-final-3"]) == 2
    assert capsys.readouterr().err.startswith("--from-eurovision-csv: round must be one of")


def test_from_eurovision_csv_through_a_subprocess(eurovision_dir: Path) -> None:
    done = run(
        "--from-eurovision-csv", str(eurovision_dir), "--year", "2016", "--round", "semi-final-1"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scoreboard"][0]["country"] == "RU"
