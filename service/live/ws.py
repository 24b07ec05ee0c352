"""`WS /ws/contests/{cid}/leaderboard`: snapshot on connect, then coalesced updates."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from service.auth import bearer_token, secrets_equal
from service.errors import ApiError
from service.live.hub import LeaderboardHub, Subscriber
from service.live.wire import frame_writer
from service.runtime import Runtime

HUB = "live.hub"
CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


def hub_factory(rt: Runtime) -> LeaderboardHub:
    hub = LeaderboardHub(rt)
    rt.extras[HUB] = hub
    return hub


def _access(socket: WebSocket[Any, Any, Any], rt: Runtime) -> bool | None:
    """True for the producer's full view, False for public, None when refused."""
    token = bearer_token(socket)
    if token is not None and secrets_equal(token, rt.settings.admin_token):
        return True
    wanted = rt.settings.results_token
    if wanted is None or (token is not None and secrets_equal(token, wanted)):
        return False
    return None


@websocket("/ws/contests/{cid:str}/leaderboard")
async def leaderboard_socket(socket: WebSocket[Any, Any, Any], cid: str) -> None:
    rt: Runtime = socket.app.state.runtime
    await socket.accept()
    full = _access(socket, rt)
    if full is None:
        await socket.close(CLOSE_UNAUTHORIZED, "a results token is required")
        return
    try:
        await rt.contests.get(cid)
    except ApiError:
        await socket.close(CLOSE_NOT_FOUND, "unknown contest")
        return
    hub: LeaderboardHub = rt.extras[HUB]
    sub = await hub.join(cid, full, socket.send, frame_writer(socket.scope))
    try:
        await _serve(socket, sub)
    finally:
        hub.leave(sub)


async def _serve(socket: WebSocket[Any, Any, Any], sub: Subscriber) -> None:
    """Read (and ignore) what the client sends until it leaves or the hub drops it.

    The hub sends the updates itself (see `Subscriber`); this only notices the end.
    """

    async def receive() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_data("text")

    reader = asyncio.create_task(receive())
    ended = asyncio.create_task(sub.ended.wait())
    try:
        await asyncio.wait((reader, ended), return_when=asyncio.FIRST_COMPLETED)
    finally:
        reader.cancel()
        ended.cancel()
        await asyncio.gather(reader, ended, return_exceptions=True)
    if sub.dropped:
        with contextlib.suppress(Exception):
            await socket.close(CLOSE_TOO_SLOW, "client fell too far behind; reconnect")
