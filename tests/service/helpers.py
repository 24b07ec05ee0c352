"""Small helpers the service tests share: opening windows, tokens, keys."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer


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
