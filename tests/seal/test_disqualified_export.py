"""A contest with a disqualified entry: the seal signs the result without it, and the
export's contest.json carries the disqualification, so the offline audit re-scores it the
same way (and fails when the disqualification is taken out)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from service.verify import package as files
from tests.conftest import LiveServer
from tests.seal.show import audit, exported, lock_close_and_seal
from tests.seal.test_exports_and_audit import copy_of
from tests.service.helpers import aggregator_headers, open_window


@pytest.fixture(scope="module")
async def export(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        cid = live_server.new_contest(jury_size=0, jury_min_valid=0,
                                      voting_countries=["KZ", "UZ", "WW"])
        await open_window(api, live_server, cid)
        votes = [{"id": f"b{i}", "voter": f"+7{i}", "country": ["KZ", "UZ", "WW"][i % 3],
                  "entry": ["KR", "KR", "AZ", "GE", "MN"][i % 5]} for i in range(60)]
        r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                           headers=await aggregator_headers(api, live_server, cid))
        assert r.status_code == 200 and r.json()["accepted"] == 60, r.text
        r = await api.post(f"/api/v1/contests/{cid}/entries/KR/disqualify",
                           json={"reason": "rules breach"}, headers=live_server.admin)
        assert r.status_code == 200, r.text
        await lock_close_and_seal(api, live_server, cid)
    return exported(live_server, tmp_path_factory.mktemp("disqualified-export"), "--ledger", cid)


def test_an_export_with_a_disqualified_entry_passes_the_offline_audit(export: Path) -> None:
    assert json.loads((export / files.CONTEST).read_text())["disqualified"] == ["KR"]
    result = json.loads((export / files.RESULT).read_text())
    assert result["disqualified"] == ["KR"]
    assert all("KR" not in s["points"] for s in result["sets"])
    assert any(r.startswith(b"v") and b"\tKR\t" in r for r in files.record_lines(export))
    done = audit(export)
    assert done.returncode == 0, done.stdout


def test_taking_the_disqualification_out_of_the_export_fails_the_audit(
        export: Path, tmp_path: Path) -> None:
    folder = copy_of(export, tmp_path)
    contest = json.loads((folder / files.CONTEST).read_text())
    contest["disqualified"] = []
    (folder / files.CONTEST).write_text(json.dumps(contest))
    done = audit(folder)
    assert done.returncode == 1, done.stdout
