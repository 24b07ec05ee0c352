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
    sub, snapshot = await hub.join(cid, full)
    try:
        await socket.send_text(snapshot)
        await _pump(socket, sub)
    finally:
        hub.leave(sub)


async def _pump(socket: WebSocket[Any, Any, Any], sub: Subscriber) -> None:
    """Send queued updates until the client leaves or falls too far behind."""

    async def send() -> None:
        while (message := await sub.queue.get()) is not None:
            await socket.send_text(message)
        await socket.close(CLOSE_TOO_SLOW, "client fell too far behind; reconnect")

    async def receive() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_data("text")

    tasks = [asyncio.create_task(send()), asyncio.create_task(receive())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
