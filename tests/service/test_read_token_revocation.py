"""Revoking a read token ends what it opened: every websocket it holds closes with
4403, in every process, and a ticket bought with it before the revocation opens
nothing after it. (A graphics machine that is stolen or leaves the show stops seeing
the hidden standings at once, not when it next reconnects.)"""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer
from tests.service.test_live import next_message, ws_url
from tests.service.test_ws_tickets import new_ticket, refusal

CLOSED_WITHIN_S = 5.0


async def read_token(api: httpx.AsyncClient, server: LiveServer, cid: str) -> tuple[str, str]:
    r = await api.post(f"/api/v1/contests/{cid}/read-tokens", json={"label": "vMix"},
                       headers=server.admin)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["token"]


async def revoke(api: httpx.AsyncClient, server: LiveServer, cid: str, token_id: str) -> None:
    r = await api.delete(f"/api/v1/contests/{cid}/read-tokens/{token_id}", headers=server.admin)
    assert r.status_code == 200, r.text


async def close_of(socket: websockets.ClientConnection) -> tuple[int, str]:
    """The close frame the server sends, within CLOSED_WITHIN_S (updates read past)."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(CLOSED_WITHIN_S):
            while True:
                await socket.recv()
    frame = closed.value.rcvd
    assert frame is not None, "the socket ended without a close frame"
    return frame.code, frame.reason


@pytest.mark.parametrize("how", ["ticket", "bearer header"])
async def test_a_revoked_read_token_closes_the_sockets_it_opened(
        live_server: LiveServer, api: httpx.AsyncClient, how: str) -> None:
    cid = live_server.new_contest(results_visibility="after_close")
    token_id, token = await read_token(api, live_server, cid)
    bearer = {"Authorization": f"Bearer {token}"}
    if how == "ticket":
        connect = websockets.connect(ws_url(live_server, cid, await new_ticket(api, bearer)))
    else:
        connect = websockets.connect(ws_url(live_server, cid), additional_headers=bearer)
    async with connect as socket, websockets.connect(
            ws_url(live_server, cid, await new_ticket(api, live_server.admin))) as admin:
        assert (await next_message(socket))["results"]["full"] is True
        await next_message(admin)
        await revoke(api, live_server, cid, token_id)
        code, reason = await close_of(socket)
        assert code == 4403 and "revoked" in reason
        assert admin.close_code is None  # the admin's socket, on another credential, stays


async def test_a_ticket_bought_before_the_revocation_opens_nothing_after_it(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest(results_visibility="after_close")
    token_id, token = await read_token(api, live_server, cid)
    ticket = await new_ticket(api, {"Authorization": f"Bearer {token}"})
    await revoke(api, live_server, cid, token_id)
    code, reason = await refusal(ws_url(live_server, cid, ticket))
    assert code == 4403 and "revoked" in reason
