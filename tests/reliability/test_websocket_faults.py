"""Websocket faults: a client that stops reading, and a reconnect storm."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from typing import Any

import httpx
import pytest
import websockets
from litestar.exceptions import WebSocketDisconnect

from service.live.hub import QUEUE_LIMIT, Message, Subscriber
from service.live.wire import text_frame
from service.live.ws import CLOSE_TOO_SLOW
from service.live.ws import serve_subscriber as serve_socket
from tests.conftest import LiveServer
from tests.harness.waiting import eventually
from tests.service.helpers import open_window, voter_headers
from tests.service.test_live import ws_url

STORM = int(os.environ.get("WS_STORM_CLIENTS", "1500"))  # 5000 in the long run


def message(text: str) -> Message:
    return Message({"type": "websocket.send", "bytes": None, "text": text},
                   text_frame(text.encode()))


def test_a_subscriber_that_falls_too_far_behind_is_dropped_not_waited_for() -> None:
    async def scenario() -> None:
        stuck = asyncio.Event()
        sent: list[Any] = []

        async def send(message: Any) -> None:  # a client whose socket buffer is full
            await stuck.wait()
            sent.append(message)

        sub = Subscriber("c", full=False, send=send)
        for i in range(QUEUE_LIMIT + 1):  # one blocked send, then a full backlog
            sub.offer(message(f"update {i}"))
        assert not sub.dropped and len(sub.backlog) == QUEUE_LIMIT
        sub.offer(message("one too many"))
        assert sub.dropped and sub.ended and not sub.backlog
        sub.offer(message("later"))  # ignored once dropped
        assert not sub.backlog
        stuck.set()
        await eventually(lambda: sub.sending is None, 1, "the blocked send to finish")
        assert [m["text"] for m in sent] == ["update 0"], "nothing more is sent to a dropped client"

    asyncio.run(scenario())


def test_a_slow_subscriber_that_catches_up_gets_every_message_in_order() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()
        sent: list[Any] = []

        async def send(message: Any) -> None:
            if not gate.is_set():
                await gate.wait()
            sent.append(message)

        sub = Subscriber("c", full=False, send=send)
        for i in range(5):
            sub.offer(message(str(i)))
        assert sent == [] and sub.sending is not None
        gate.set()
        await eventually(lambda: sub.sending is None, 1, "the slow client's backlog to drain")
        assert [m["text"] for m in sent] == ["0", "1", "2", "3", "4"] and sub.sending is None
        sub.offer(message("5"))  # a client that keeps up is sent to on the spot
        assert sent[-1]["text"] == "5" and sub.sending is None and not sub.dropped

    asyncio.run(scenario())


def test_a_client_with_a_frame_writer_is_written_the_ready_frame_not_sent_an_event() -> None:
    async def scenario() -> None:
        written: list[bytes] = []

        async def send(message: Any) -> None:
            raise AssertionError("the ASGI send is not used while the writer accepts")

        def write(frame: bytes) -> bool:
            written.append(frame)
            return True

        sub = Subscriber("c", full=False, send=send, write=write)
        for i in range(3):
            sub.offer(message(str(i)))
        assert written == [text_frame(b"0"), text_frame(b"1"), text_frame(b"2")]
        assert sub.sending is None

    asyncio.run(scenario())


def test_when_the_writer_is_backed_up_messages_go_through_send_in_order() -> None:
    async def scenario() -> None:
        room = False
        written: list[bytes] = []
        gate = asyncio.Event()
        sent: list[Any] = []

        def write(frame: bytes) -> bool:  # the transport is paused: no room
            if room:
                written.append(frame)
            return room

        async def send(event: Any) -> None:  # waits, as uvicorn's does, for room
            await gate.wait()
            sent.append(event["text"])

        sub = Subscriber("c", full=False, send=send, write=write)
        sub.offer(message("0"))
        room = True  # room again, but "0" is still waiting: later ones must queue behind it
        sub.offer(message("1"))
        assert written == [] and [m.event["text"] for m in sub.backlog] == ["1"]
        gate.set()
        await eventually(lambda: sub.sending is None, 1, "the waiting send and its backlog")
        assert sent == ["0", "1"] and sub.sending is None
        sub.offer(message("2"))  # caught up: straight to the writer again
        assert written == [text_frame(b"2")]

    asyncio.run(scenario())


class FakeSocket:
    """The two calls the socket handler makes: a read that waits for the client, a close."""

    def __init__(self) -> None:
        self.client_left = asyncio.Event()
        self.closed_with: tuple[int, str] | None = None

    async def receive_data(self, mode: str) -> str:
        await self.client_left.wait()
        raise WebSocketDisconnect(detail="gone")

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


async def waiting_handler() -> tuple[FakeSocket, Subscriber, asyncio.Task[None]]:
    """A socket handler started for a fresh subscriber, now waiting on its client."""
    socket, sub = FakeSocket(), Subscriber("c", full=False, send=lambda m: asyncio.sleep(0))
    handler = asyncio.create_task(serve_socket(socket, sub))  # type: ignore[arg-type]
    await eventually(lambda: sub.on_end is not None, 1, "the handler to wait on its client")
    return socket, sub, handler


def test_a_dropped_client_is_closed_with_4008_by_its_handler() -> None:
    async def scenario() -> None:
        socket, sub, handler = await waiting_handler()
        sub.drop()
        await asyncio.wait_for(handler, 1)
        assert socket.closed_with is not None and socket.closed_with[0] == CLOSE_TOO_SLOW

    asyncio.run(scenario())


def test_a_client_that_leaves_ends_its_handler_without_a_close_frame() -> None:
    async def scenario() -> None:
        socket, sub, handler = await waiting_handler()
        socket.client_left.set()
        await asyncio.wait_for(handler, 1)
        assert socket.closed_with is None and not sub.dropped

    asyncio.run(scenario())


def test_a_server_shutdown_still_cancels_the_handler() -> None:
    async def scenario() -> None:
        *_, handler = await waiting_handler()
        handler.cancel()  # not the hub's doing: the cancellation must not be swallowed
        with pytest.raises(asyncio.CancelledError):
            await handler

    asyncio.run(scenario())


async def test_a_client_that_never_reads_does_not_delay_the_others(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+31", "KZ")
    stalled = await websockets.connect(ws_url(live_server, cid), max_queue=1)
    async with websockets.connect(ws_url(live_server, cid)) as healthy:
        await healthy.recv()
        delays = []
        for i in range(8):
            sent = time.monotonic()
            r = await api.post(f"/api/v1/contests/{cid}/votes",
                               json={"entry": "UZ", "key": uuid.uuid4().hex}, headers=voter)
            assert r.status_code == 201
            while True:
                message = json.loads(await asyncio.wait_for(healthy.recv(), 5))
                if sum(message["results"]["votes"].get("KZ", {}).values()) == i + 1:
                    break
            delays.append(time.monotonic() - sent)
    await stalled.close()
    assert max(delays) < 1.5, delays


@pytest.mark.slow
@pytest.mark.stores_independent  # the reconnect storm does not depend on the stores
async def test_a_reconnect_storm_gets_every_client_a_snapshot_and_then_updates(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+32", "KZ")
    gate = asyncio.Semaphore(1000)

    async def connect() -> tuple[Any, dict[str, Any]]:
        async with gate:
            socket = await websockets.connect(ws_url(live_server, cid), open_timeout=60,
                                              max_queue=None)
            return socket, json.loads(await asyncio.wait_for(socket.recv(), 60))

    started = time.monotonic()
    clients = await asyncio.gather(*[connect() for _ in range(STORM)])
    connected_s = time.monotonic() - started
    assert all(m["type"] == "snapshot" for _, m in clients)
    await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "CN", "key": "storm"},
                   headers=voter)

    async def sees_the_vote(socket: Any) -> bool:
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 30))
            if message["results"]["votes"]:
                return True

    assert all(await asyncio.gather(*[sees_the_vote(s) for s, _ in clients]))
    await asyncio.gather(*[s.close() for s, _ in clients])
    print(f"{STORM} clients connected with snapshots in {connected_s:.1f} s")
