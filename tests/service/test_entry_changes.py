"""Entry changes (admin): rename, reorder, disqualify; each one an audit event, and a
disqualified entry's votes stay in the ledger but count for no one."""

from __future__ import annotations

import asyncpg
import httpx

from tests.conftest import LiveServer
from tests.service.helpers import aggregator_headers, open_window, voter_headers


async def _events(ledger: asyncpg.Connection, cid: str) -> list[str]:
    rows = await ledger.fetch("SELECT kind FROM audit_events WHERE contest_id = $1 ORDER BY id",
                              cid)
    return [r["kind"] for r in rows]


async def test_renaming_and_reordering_entries_change_the_contest_and_are_audited(
        api: httpx.AsyncClient, live_server: LiveServer, ledger: asyncpg.Connection
) -> None:
    cid = live_server.new_contest()
    admin = live_server.admin
    r = await api.patch(f"/api/v1/contests/{cid}/entries/KZ", json={"song": "New song"},
                        headers=admin)
    assert r.status_code == 200, r.text
    kz = next(e for e in r.json()["entries"] if e["country"] == "KZ")
    assert kz["song"] == "New song" and kz["artist"]  # the artist stays
    order = [e["country"] for e in sorted(r.json()["entries"],
                                          key=lambda e: e["running_order"])][::-1]
    r = await api.post(f"/api/v1/contests/{cid}/running-order", json={"order": order},
                       headers=admin)
    assert r.status_code == 200, r.text
    assert [e["country"] for e in sorted(r.json()["entries"],
                                         key=lambda e: e["running_order"])] == order
    r = await api.post(f"/api/v1/contests/{cid}/running-order", json={"order": order[1:]},
                       headers=admin)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "running_order_mismatch"
    r = await api.patch(f"/api/v1/contests/{cid}/entries/ZZ", json={"song": "x"},
                        headers=admin)
    assert r.status_code == 404
    kinds = await _events(ledger, cid)
    assert kinds.count("entry_renamed") == 1 and kinds.count("entries_reordered") == 1


async def test_a_disqualified_entrys_votes_count_for_no_one_and_the_rest_move_up(
        api: httpx.AsyncClient, live_server: LiveServer, ledger: asyncpg.Connection
) -> None:
    cid = live_server.new_contest(jury_size=0, jury_min_valid=0, voting_countries=["KR", "WW"])
    await open_window(api, live_server, cid)
    partner = await aggregator_headers(api, live_server, cid)
    votes = [{"id": f"v{i}", "voter": f"+99{i}", "country": "KR", "entry": entry}
             for i, entry in enumerate(["UZ"] * 5 + ["KZ"] * 3 + ["AZ"] * 2)]
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                       headers=partner)
    assert r.status_code == 200, r.text
    r = await api.post(f"/api/v1/contests/{cid}/entries/UZ/disqualify",
                       json={"reason": "broke the rules"}, headers=live_server.admin)
    assert r.status_code == 200, r.text
    assert r.json()["disqualified"] == ["UZ"]
    r = await api.post(f"/api/v1/contests/{cid}/entries/UZ/disqualify",
                       json={"reason": "again"}, headers=live_server.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_disqualified"

    await open_window(api, live_server, cid, "closed")
    r = await api.post(f"/api/v1/contests/{cid}/reveal/next", headers=live_server.admin)
    assert r.status_code == 200, r.text
    results = (await api.get(f"/api/v1/contests/{cid}/results?view=full",
                             headers=live_server.admin)).json()
    kr = next(s for s in results["sets"] if s["from"] == "KR")
    assert kr["points"] == {"KZ": 12, "AZ": 10}  # UZ's 12 is not given: KZ and AZ move up
    assert "UZ" not in {line["country"] for line in results["scoreboard"]}
    r = await api.get(f"/api/v1/contests/{cid}/stats", headers=live_server.admin)
    assert r.status_code == 200  # the votes stay in the ledger
    assert "entry_disqualified" in await _events(ledger, cid)
    r = await api.patch(f"/api/v1/contests/{cid}/entries/KZ", json={"song": "late"},
                        headers=live_server.admin)
    # the reveal froze the results (and, the jury locked and the window closed, sealed)
    assert r.status_code == 409
    assert r.json()["error"]["code"] in ("result_frozen", "sealed")


async def test_a_vote_for_a_disqualified_entry_is_refused_and_costs_the_voter_nothing(
        api: httpx.AsyncClient, live_server: LiveServer) -> None:
    """Once an entry is out, a viewer told "counted" would have spent a vote on no one:
    single votes get 409 `entry_disqualified`, batch items are rejected with that code,
    and the voter's cap is untouched."""
    cid = live_server.new_contest(vote_cap=1)
    await open_window(api, live_server, cid)
    r = await api.post(f"/api/v1/contests/{cid}/entries/UZ/disqualify",
                       json={"reason": "broke the rules"}, headers=live_server.admin)
    assert r.status_code == 200, r.text
    viewer = await voter_headers(api, live_server, cid, "late-fan", "KZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "dq-1"},
                       headers=viewer)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "entry_disqualified"
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "GE", "key": "dq-2"},
                       headers=viewer)
    assert r.status_code == 201, r.text  # the one vote of the cap was still there

    partner = await aggregator_headers(api, live_server, cid)
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", headers=partner, json={"votes": [
        {"id": "dq-b1", "voter": "+99100", "country": "KZ", "entry": "UZ"},
        {"id": "dq-b2", "voter": "+99101", "country": "KZ", "entry": "AZ"}]})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert [(x["id"], x["code"]) for x in r.json()["rejected"]] == [
        ("dq-b1", "entry_disqualified")]
