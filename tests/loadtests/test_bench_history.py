"""The bench's record of earlier runs: every full run adds one row, newest shown first."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.bench.history import RunRecord, history_section, load_history, record_run

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass


def run(date: str, healthz: float | None = 4000.0) -> RunRecord:
    return RunRecord(date, "abc1234", healthz, 0.5, 20.0, 30000.0, {"1": 800.0, "2": 650.0})


def test_each_run_adds_one_row_and_rewriting_a_report_adds_none(tmp_path: Path) -> None:
    path = tmp_path / "img" / "history.json"
    record_run(path, run("2026-11-25 10:00 UTC"))
    record_run(path, run("2026-11-25 11:00 UTC"))
    runs = record_run(path, run("2026-11-25 11:00 UTC", healthz=5000.0))
    assert [r.date for r in runs] == ["2026-11-25 10:00 UTC", "2026-11-25 11:00 UTC"]
    assert load_history(path)[-1].healthz_rps == 5000.0


def test_the_newest_run_comes_first_and_missing_figures_show_as_a_dash() -> None:
    lines = history_section([run("2026-11-25 10:00 UTC"), run("2026-11-25 11:00 UTC", None)])
    rows = [line for line in lines if line.startswith("| 2026")]
    assert rows[0].startswith("| 2026-11-25 11:00 UTC | `abc1234` | – | 50% | 20.0 ms")
    assert rows[1].endswith("| 30,000 | 800 / 650 ms |")


def test_no_runs_no_section() -> None:
    assert history_section([]) == []
