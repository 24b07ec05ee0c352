"""Websockets authenticate with single-use tickets; tokens never travel in a URL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from service.security.ws_tickets import TICKET_TTL_S
from service.stores import redis_keys
from service.stores.redis import create_redis
from tests.conftest import LiveServer, Stores
from tests.service.helpers import open_window, voter_headers
from tests.service.test_live import next_message, ws_url

TICKETS = "/api/v1/ws-tickets"


async def new_ticket(api: httpx.AsyncClient, headers: dict[str, str]) -> str:
    r = await api.post(TICKETS, headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert 0 < body["expires_in"] <= TICKET_TTL_S
    return str(body["ticket"])


async def refusal(url: str, **connect: Any) -> tuple[int, str]:
    """The close code and reason of a socket the server accepts and then closes."""
    async with websockets.connect(url, **connect) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
    frame = closed.value.rcvd
    assert frame is not None
    return frame.code, frame.reason


async def test_an_admin_ticket_opens_the_full_view_once(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    ticket = await new_ticket(api, live_server.admin)
    async with websockets.connect(ws_url(live_server, cid, ticket)) as socket:
        snapshot = await next_message(socket)
    assert snapshot["type"] == "snapshot" and snapshot["results"]["full"] is True
    code, reason = await refusal(ws_url(live_server, cid, ticket))
    assert code == 4401 and "used" in reason


async def test_sockets_racing_with_one_ticket_get_it_once(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    ticket = await new_ticket(api, live_server.admin)

    async def first_frame() -> str:
        async with websockets.connect(ws_url(live_server, cid, ticket)) as socket:
            try:
                return str(json.loads(await asyncio.wait_for(socket.recv(), 10))["type"])
            except ConnectionClosed as closed:
                return f"closed {closed.rcvd.code if closed.rcvd else None}"

    outcomes = await asyncio.gather(*[first_frame() for _ in range(12)])
    assert sorted(outcomes) == ["closed 4401"] * 11 + ["snapshot"]


async def test_a_ticket_needs_a_bearer_token(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    assert (await api.post(TICKETS)).status_code == 401
    r = await api.post(TICKETS, params={"token": live_server.admin_token})
    assert r.status_code == 401 and "never in the URL" in r.json()["error"]["message"]


async def test_redis_holds_only_a_hash_of_a_ticket_for_a_short_while(
        live_server: LiveServer, api: httpx.AsyncClient, stores: Stores) -> None:
    ticket = await new_ticket(api, live_server.admin)
    redis = create_redis(stores.redis_url)
    try:
        key = redis_keys.ws_ticket(hashlib.sha256(ticket.encode()).hexdigest())
        assert 0 < await redis.ttl(key) <= TICKET_TTL_S
        assert await redis.keys(f"*{ticket}*") == []
    finally:
        await redis.aclose()


async def test_a_token_in_the_socket_url_is_refused_and_says_why(
        live_server: LiveServer) -> None:
    cid = live_server.new_contest()
    code, reason = await refusal(f"{ws_url(live_server, cid)}?token={live_server.admin_token}")
    assert code == 4401 and "ws-tickets" in reason


async def test_a_made_up_ticket_is_refused(live_server: LiveServer) -> None:
    cid = live_server.new_contest()
    code, _ = await refusal(ws_url(live_server, cid, "x" * 32))
    assert code == 4401


async def test_clients_that_can_send_headers_still_use_the_bearer_header(
        live_server: LiveServer) -> None:
    cid = live_server.new_contest()
    async with websockets.connect(ws_url(live_server, cid),
                                  additional_headers=live_server.admin) as socket:
        assert (await next_message(socket))["results"]["full"] is True


@pytest.mark.parametrize("where", ["stats", "results?view=full", "votes/me"])
async def test_http_routes_never_read_a_token_from_the_query_string(
        live_server: LiveServer, api: httpx.AsyncClient, where: str) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = (await voter_headers(api, live_server, cid, "+query", "KZ"))["Authorization"]
    token = voter.removeprefix("Bearer ") if where == "votes/me" else live_server.admin_token
    sep = "&" if "?" in where else "?"
    r = await api.get(f"/api/v1/contests/{cid}/{where}{sep}token={token}")
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
