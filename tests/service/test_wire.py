"""Ready-made websocket frames: the bytes the hub writes are what a websocket library sends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
import websockets
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode

from service.live.wire import DirectFrameProtocol, frame_writer, text_frame
from tests.harness.server import free_port
from tests.harness.waiting import eventually

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass


@given(st.sampled_from([0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) | st.integers(0, 3000))
def test_a_ready_frame_is_byte_for_byte_the_frame_websockets_would_send(size: int) -> None:
    payload = b"x" * size
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False)
    assert text_frame(payload) == expected


async def test_the_server_offers_the_writer_and_it_writes_only_once_the_socket_is_open() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await receive()  # websocket.connect
        write = frame_writer(scope)
        seen["offered"] = write is not None
        seen["before_accept"] = write is not None and write(text_frame(b"too early"))
        await send({"type": "websocket.accept"})
        seen["after_accept"] = write is not None and write(text_frame(b"hello"))
        await send({"type": "websocket.send", "text": "through send"})
        await receive()  # until the client leaves

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           ws=DirectFrameProtocol, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or serving.done(), 10, "uvicorn to start")
        assert server.started, serving  # not ended early (e.g. the port was taken)
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as client:
            assert await asyncio.wait_for(client.recv(), 5) == "hello"
            assert await asyncio.wait_for(client.recv(), 5) == "through send"
    finally:
        server.should_exit = True
        await serving
    assert seen == {"offered": True, "before_accept": False, "after_accept": True}
