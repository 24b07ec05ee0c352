"""Small helpers the service tests share: opening windows, tokens, keys."""

from __future__ import annotations

import time

import httpx

from tests.conftest import LiveServer
from tests.harness.waiting import wait_until


async def open_window(api: httpx.AsyncClient, server: LiveServer, cid: str,
                      state: str = "open") -> None:
    r = await api.post(f"/api/v1/contests/{cid}/window", json={"state": state},
                       headers=server.admin)
    assert r.status_code == 200, r.text


async def voter_headers(api: httpx.AsyncClient, server: LiveServer, cid: str, voter: str,
                        country: str) -> dict[str, str]:
    r = await api.post(f"/api/v1/contests/{cid}/voter-tokens",
                       json={"voter": voter, "country": country}, headers=server.admin)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def aggregator_headers(api: httpx.AsyncClient, server: LiveServer, cid: str
                             ) -> dict[str, str]:
    r = await api.post(f"/api/v1/contests/{cid}/aggregator-keys", json={"name": "telco"},
                       headers=server.admin)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


def room_in_this_minute() -> None:
    """Per-minute limits (juror logins) count per calendar minute: start a run of
    attempts early enough in one that it does not straddle two (its count would start
    again halfway)."""
    wait_until(lambda: time.time() % 60 < 52, 20, "a minute with room for the run")
