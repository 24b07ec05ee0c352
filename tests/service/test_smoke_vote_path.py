"""The vote path end to end: token, vote, duplicate, results."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer
from tests.harness.waiting import eventually


async def test_a_vote_is_acknowledged_counted_once_and_shown_in_results(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    r = await api.post(f"/api/v1/contests/{cid}/window", json={"state": "open"},
                       headers=live_server.admin)
    assert r.status_code == 200, r.text
    r = await api.post(f"/api/v1/contests/{cid}/voter-tokens",
                       json={"voter": "+99890000001", "country": "KZ"}, headers=live_server.admin)
    assert r.status_code == 201, r.text
    voter = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "k1"},
                       headers=voter)
    assert r.status_code == 201, r.text
    receipt = r.json()["receipt"]
    assert r.json() == {"accepted": True, "remaining": 19, "receipt": receipt}
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "k1"},
                       headers=voter)
    assert r.status_code == 200
    assert r.json() == {"accepted": True, "remaining": 19, "duplicate": True,
                        "receipt": receipt}

    async def votes_in(source: str) -> tuple[int, object]:
        r = await api.get(f"/api/v1/contests/{cid}/results", params={"source": source})
        return r.status_code, r.json().get("votes") if r.status_code == 200 else r.text

    # the 201 is sent only after the commit: the ledger has the vote already
    assert await votes_in("ledger") == (200, {"KZ": {"UZ": 1}})
    # the live tally moves just after the commit, possibly after the answer was sent
    live = await eventually(lambda: votes_in("live"), 5, "the live tally to show the vote",
                            ok=lambda seen: seen[0] == 200 and seen[1] != {})
    assert live == (200, {"KZ": {"UZ": 1}})
