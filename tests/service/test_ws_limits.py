"""A websocket client can neither make the server buffer big frames nor hold many sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from service.live.ws import WS_MAX_MESSAGE_BYTES
from tests.conftest import LiveServer, Stores, start_server
from tests.harness.waiting import eventually
from tests.service.test_live import next_message, ws_url

PER_CLIENT = 3


@pytest.fixture(scope="module")
def limited(stores: Stores, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(stores, Path(tmp_path_factory.mktemp("ws-limits")),
                          WS_CONNECTIONS_PER_CLIENT=str(PER_CLIENT))
    yield server
    server.stop()


@pytest.fixture
async def sockets() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def open_from(stack: AsyncExitStack, server: LiveServer, cid: str, source: str) -> Any:
    """A socket from loopback address `source`, closed with the test."""
    return await stack.enter_async_context(websockets.connect(
        ws_url(server, cid), local_addr=(source, 0)))


async def close_code(socket: Any) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), 10)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_a_frame_past_a_few_kib_closes_the_socket_with_1009(
        limited: LiveServer, sockets: AsyncExitStack) -> None:
    cid = limited.new_contest()
    small = await open_from(sockets, limited, cid, "127.0.0.21")
    big = await open_from(sockets, limited, cid, "127.0.0.22")
    for socket in (small, big):
        assert (await next_message(socket))["type"] == "snapshot"
    await small.send("x" * (WS_MAX_MESSAGE_BYTES // 2))
    await big.send("x" * (64 * 1024))
    assert await close_code(big) == 1009
    await small.ping()  # still served
    assert small.close_code is None


async def test_a_client_gets_at_most_the_limit_of_sockets_and_others_are_not_affected(
        limited: LiveServer, sockets: AsyncExitStack) -> None:
    cid = limited.new_contest()
    held = [await open_from(sockets, limited, cid, "127.0.0.31") for _ in range(PER_CLIENT)]
    assert [(await next_message(s))["type"] for s in held] == ["snapshot"] * PER_CLIENT
    extra = await open_from(sockets, limited, cid, "127.0.0.31")
    assert await close_code(extra) == 4429
    neighbour = await open_from(sockets, limited, cid, "127.0.0.32")
    assert (await next_message(neighbour))["type"] == "snapshot"

    await held.pop().close()  # one socket leaves: its place is free again

    async def another_is_served() -> bool:
        async with websockets.connect(ws_url(limited, cid), local_addr=("127.0.0.31", 0)) as s:
            try:
                return (await next_message(s))["type"] == "snapshot"
            except ConnectionClosed:
                return False

    await eventually(another_is_served, 10, "a socket in the freed place")
