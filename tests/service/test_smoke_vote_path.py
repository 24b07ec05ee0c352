"""The vote path end to end: token, vote, duplicate, results."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import LiveServer


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
    assert r.json() == {"accepted": True, "remaining": 19}
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "k1"},
                       headers=voter)
    assert r.status_code == 200
    assert r.json() == {"accepted": True, "remaining": 19, "duplicate": True}
    await asyncio.sleep(0.2)
    for source in ("live", "ledger"):
        r = await api.get(f"/api/v1/contests/{cid}/results", params={"source": source})
        assert r.status_code == 200, r.text
        assert r.json()["votes"] == {"KZ": {"UZ": 1}}
