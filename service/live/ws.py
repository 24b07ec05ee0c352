"""`WS /ws/contests/{cid}/leaderboard`: snapshot on connect, then coalesced updates.

Who may connect: anyone while results are public; with `RESULTS_TOKEN` set, a client
with `Authorization: Bearer` (the results or admin token), or a browser with a
single-use `?ticket=` from `POST /api/v1/ws-tickets`. The admin token or its ticket
gets the full view. No client holds more than `WS_CONNECTIONS_PER_CLIENT` sockets of
one process; the server reads frames of at most a few KiB (`cli/server.py`).
"""

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
from service.security.guards import read_token_grant, results_access

CLOSE_TOO_SLOW = 4008
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429
CLOSE_TRY_AGAIN = 1013
# Clients send this socket nothing it reads: a frame or message past this is refused
# with 1009 by the server (`ws_max_size`, cli/server.py), so a client cannot make a
# worker buffer 16 MiB (uvicorn's default) per socket.
WS_MAX_MESSAGE_BYTES = 4096


@websocket("/ws/contests/{cid:str}/leaderboard")
async def leaderboard_socket(socket: WebSocket[Any, Any, Any], rt: Runtime, cid: str) -> None:
    """Refusals close the socket with a 44xx code after accepting it: a browser's
    WebSocket API shows a close code, not an HTTP status."""
    await socket.accept()
    client = socket.client.host if socket.client else "unknown"
    if not rt.ws_connections.acquire(client):
        await socket.close(CLOSE_TOO_MANY, "too many connections from this address")
        return
    try:
        await serve_leaderboard(socket, rt, cid)
    finally:
        rt.ws_connections.release(client)


async def serve_leaderboard(socket: WebSocket[Any, Any, Any], rt: Runtime, cid: str) -> None:
    access = await socket_access(socket, rt, cid)
    if access is None:
        return
    try:
        await rt.contests.get(cid)
    except ApiError:
        await socket.close(CLOSE_NOT_FOUND, "unknown contest")
        return
    full, read_token = access
    sub = await rt.hub.join(cid, full, socket.send, frame_writer(socket.scope), read_token)
    try:
        await serve_subscriber(socket, sub)
    finally:
        rt.hub.leave(sub)


async def socket_access(socket: WebSocket[Any, Any, Any], rt: Runtime, cid: str
                        ) -> tuple[bool, str | None] | None:
    """(True for the full view, False for the public one; the id of the read token that
    grants it, if one does, so its revocation ends the socket), or None once it has
    closed the socket with the reason."""
    params = socket.query_params if socket.scope["query_string"] else {}
    if "token" in params:  # an old page, or a hand-made URL: say why, never read it
        await socket.close(CLOSE_UNAUTHORIZED, "tokens never travel in the URL: "
                           "POST /api/v1/ws-tickets, then connect with ?ticket=")
        return None
    ticket = params.get("ticket")
    if ticket is None:  # the public board, or a bearer header
        full = await results_access(socket)
        if full is None:
            await socket.close(CLOSE_UNAUTHORIZED, "a results token or ticket is required")
            return None
        read = await read_token_grant(socket) if full else None
        return full, read.id if read is not None and read.contest == cid else None
    try:
        grant = await rt.ws_tickets.redeem(ticket)
    except Exception:  # Redis is down or slow: the page asks for a new ticket later
        await socket.close(CLOSE_TRY_AGAIN, "tickets cannot be checked right now")
        return None
    if grant is None:
        await socket.close(CLOSE_UNAUTHORIZED, "the ticket is unknown, used or expired")
        return None
    if grant.contest is not None and grant.contest != cid:
        await socket.close(CLOSE_FORBIDDEN, "this ticket is for another contest")
        return None
    if grant.read_token is not None and not await rt.read_tokens.is_live(grant.read_token):
        await socket.close(CLOSE_FORBIDDEN, "the read token was revoked")
        return None
    return grant.full, grant.read_token


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
    if sub.revoked:
        with contextlib.suppress(Exception):
            await socket.close(CLOSE_FORBIDDEN, "the read token was revoked")
    elif sub.dropped:
        with contextlib.suppress(Exception):
            await socket.close(CLOSE_TOO_SLOW, "client fell too far behind; reconnect")
