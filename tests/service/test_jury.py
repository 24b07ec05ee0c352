"""Jury panels: one-time codes, ballots that replace until the lock, jury sets in results."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from service.contests.demo import DEMO_LINEUP
from tests.conftest import LiveServer

COUNTRIES = [c for c, _, _ in DEMO_LINEUP]


async def new_juror(api: httpx.AsyncClient, server: LiveServer, cid: str, country: str
                    ) -> dict[str, Any]:
    r = await api.post(f"/api/v1/contests/{cid}/jurors", json={"country": country, "name": "J"},
                       headers=server.admin)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def juror_session(api: httpx.AsyncClient, code: str) -> dict[str, str]:
    r = await api.post("/api/v1/jury/session", json={"code": code})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def ranking_for(country: str, rotate: int = 0) -> list[str]:
    others = [c for c in COUNTRIES if c != country]
    return others[rotate:] + others[:rotate]


async def test_a_code_opens_one_session_and_a_second_device_is_refused_until_reissued(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    juror = await new_juror(api, live_server, cid, "KZ")
    first = await juror_session(api, juror["code"])
    r = await api.post("/api/v1/jury/session", json={"code": juror["code"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "code_used"
    r = await api.post(f"/api/v1/contests/{cid}/jurors/{juror['juror_id']}/code",
                       headers=live_server.admin)
    second = await juror_session(api, r.json()["code"])
    ballot = {"ranking": ranking_for("KZ")}
    assert (await api.put(f"/api/v1/contests/{cid}/ballot", json=ballot,
                          headers=first)).status_code == 401
    assert (await api.put(f"/api/v1/contests/{cid}/ballot", json=ballot,
                          headers=second)).status_code == 200


async def test_a_ballot_must_rank_every_other_entry_once_and_never_the_jurors_own(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    juror = await juror_session(api, (await new_juror(api, live_server, cid, "KZ"))["code"])
    url = f"/api/v1/contests/{cid}/ballot"
    full = ranking_for("KZ")
    cases = {
        "incomplete_ranking": full[:-1],
        "own_country": [*full[:-1], "KZ"],
        "unknown_entry": [*full[:-1], "FR"],
        "duplicate_entry": [*full[:-1], full[0]],
    }
    for code, ranking in cases.items():
        r = await api.put(url, json={"ranking": ranking}, headers=juror)
        assert r.status_code == 422 and r.json()["error"]["code"] == code, (code, r.text)
    assert (await api.get(url, headers=juror)).status_code == 404


async def test_a_ballot_is_replaced_until_the_lock_and_refused_after_it(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    juror = await juror_session(api, (await new_juror(api, live_server, cid, "UZ"))["code"])
    url = f"/api/v1/contests/{cid}/ballot"
    first = (await api.put(url, json={"ranking": ranking_for("UZ")}, headers=juror)).json()
    second = (await api.put(url, json={"ranking": ranking_for("UZ", 3)}, headers=juror)).json()
    assert first["ballot_hash"] != second["ballot_hash"]
    assert (await api.get(url, headers=juror)).json()["ranking"] == ranking_for("UZ", 3)
    assert (await api.post(f"/api/v1/contests/{cid}/jury/lock",
                           headers=live_server.admin)).status_code == 200
    r = await api.put(url, json={"ranking": ranking_for("UZ")}, headers=juror)
    assert r.status_code == 409 and r.json()["error"]["code"] == "ballot_locked"
    events = await ledger.fetch(
        "SELECT detail FROM audit_events WHERE contest_id=$1 AND kind='ballot_saved' ORDER BY id",
        cid)
    assert [e["detail"]["ballot_hash"] for e in events] == [first["ballot_hash"],
                                                            second["ballot_hash"]]
    assert events[1]["detail"]["previous_hash"] == first["ballot_hash"]


async def test_locked_ballots_become_jury_sets_and_a_short_jury_gets_a_substitute(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest(jury_size=3, jury_min_valid=2)
    for country in ("KZ", "UZ"):
        for rotate in range(2):
            juror = await juror_session(
                api, (await new_juror(api, live_server, cid, country))["code"])
            r = await api.put(f"/api/v1/contests/{cid}/ballot",
                              json={"ranking": ranking_for(country, rotate)}, headers=juror)
            assert r.status_code == 200
    lonely = await juror_session(api, (await new_juror(api, live_server, cid, "CN"))["code"])
    await api.put(f"/api/v1/contests/{cid}/ballot", json={"ranking": ranking_for("CN")},
                  headers=lonely)
    await api.post(f"/api/v1/contests/{cid}/jury/lock", headers=live_server.admin)
    r = await api.get(f"/api/v1/contests/{cid}/results",
                      params={"source": "ledger", "view": "full"}, headers=live_server.admin)
    assert r.status_code == 200, r.text
    jury_sets = {s["from"]: s for s in r.json()["sets"] if s["body"] == "jury"}
    assert set(jury_sets) >= {"KZ", "UZ", "CN"}
    assert "KZ" not in jury_sets["KZ"]["points"]
    assert jury_sets["CN"].get("substitute") is True
    assert "WW" not in jury_sets


async def test_export_writes_every_ballot_version_and_the_audit_trail(
        live_server: LiveServer, api: httpx.AsyncClient, tmp_path: Any) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    cid = live_server.new_contest()
    juror = await juror_session(api, (await new_juror(api, live_server, cid, "MN"))["code"])
    for rotate in (0, 1):
        await api.put(f"/api/v1/contests/{cid}/ballot",
                      json={"ranking": ranking_for("MN", rotate)}, headers=juror)
    out = subprocess.run(
        [sys.executable, "-m", "service.cli", "export", "--ballots", cid, "--out", str(tmp_path)],
        env=live_server.env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    ballots = (tmp_path / f"{cid}-ballots.csv").read_text().splitlines()
    assert len(ballots) == 3 and ballots[-1].count(",yes,") == 1
    audit = subprocess.run(
        [sys.executable, "-m", "service.cli", "verify", cid, "--audit"],
        env=live_server.env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "audit chain intact" in audit.stdout
