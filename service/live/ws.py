"""`WS /ws/contests/{cid}/leaderboard`: snapshot on connect, then coalesced updates."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from service.core.errors import ApiError
from service.live.hub import Subscriber
from service.live.wire import frame_writer
from service.runtime import Runtime
from service.security.guards import results_access

CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


@websocket("/ws/contests/{cid:str}/leaderboard")
async def leaderboard_socket(socket: WebSocket[Any, Any, Any], rt: Runtime, cid: str) -> None:
    """Refusals close the socket with a 44xx code after accepting it: a browser's
    WebSocket API shows a close code, not an HTTP status."""
    await socket.accept()
    full = results_access(socket)
    if full is None:
        await socket.close(CLOSE_UNAUTHORIZED, "a results token is required")
        return
    try:
        await rt.contests.get(cid)
    except ApiError:
        await socket.close(CLOSE_NOT_FOUND, "unknown contest")
        return
    sub = await rt.hub.join(cid, full, socket.send, frame_writer(socket.scope))
    try:
        await serve_subscriber(socket, sub)
    finally:
        rt.hub.leave(sub)


async def serve_subscriber(socket: WebSocket[Any, Any, Any], sub: Subscriber) -> None:
    """Read (and ignore) what the client sends until it leaves or the hub ends it.

    The hub sends the updates itself (see `Subscriber`). To end a subscription it
    cancels this wait (`on_end`), so a client costs one waiting task, not a reader task,
    a watcher task and a wait on both: at 10,000 clients every object a client keeps
    alive lengthens each full garbage collection.
    """
    task = asyncio.current_task()
    assert task is not None
    if not sub.ended:
        sub.on_end = task.cancel
        try:
            while True:
                await socket.receive_data("text")
        except WebSocketDisconnect:
            return
        except asyncio.CancelledError:
            if not sub.ended:  # not the hub's doing (the server is shutting down)
                raise
            task.uncancel()
    if sub.dropped:
        with contextlib.suppress(Exception):
            await socket.close(CLOSE_TOO_SLOW, "client fell too far behind; reconnect")
