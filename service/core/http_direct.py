"""Requests the HTTP protocol hands to their handler directly, not through ASGI.

Why: under a televote every single vote pays for uvicorn's ASGI plumbing before and
after its own work, and that plumbing was the larger part of what is left of a vote's
CPU once the vote lane (`service/intake/lane.py`) skipped the framework: the `receive`
coroutine and the event it waits on, two `send` coroutines that check every header
against two regexes and write the head and the body separately, and the held head that
joins those writes (`http_writes.py`), flushed by a callback scheduled per answer. A
handler called directly reads the body the parser already collected and writes its
answer in one call: issue 21 measured the service's CPU per vote 17 % lower.

The protocol (`http_timeouts.SlowClientProtocol`) asks the app it serves, if that app is
a `DirectApp`, whether it answers a request directly (`DirectApp.direct`). Everything
else about the request is unchanged: it is still uvicorn's request cycle, started the
same way (its task, its errors and their 500, pipelining, keep-alive, the slow-client
deadlines), so a direct handler only changes how bytes get in and out.

Served by another server (or with `VOTE_LANE=false`) nothing is direct, and the same
requests take the framework's route: same answers, more CPU.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle

from service.core.http_writes import HeadWithBody

# what uvicorn refuses in a header value (`send`): a control character could split the head
_BAD_VALUE = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")
Headers = list[tuple[bytes, bytes]]


class Exchange:
    """One request's cycle as a direct handler sees it: the body, if the parser has all
    of it, and one call to answer. What uvicorn's `send` does for every answer is done
    here too: its default headers (`date`), `connection: close` when the connection is
    not kept alive, the cycle's completion (keep-alive, the next pipelined request), and
    nothing written to a client that has gone.

    It is also the ASGI app uvicorn's `run_asgi` runs for the cycle (`__call__`), so an
    exception in the handler, or a handler that never answered, gets uvicorn's own 500."""

    __slots__ = ("_cycle", "_handler", "_writes")

    def __init__(self, cycle: RequestResponseCycle, writes: HeadWithBody,
                 handler: DirectHandler) -> None:
        self._cycle = cycle
        self._writes = writes
        self._handler = handler

    def __call__(self, scope: Any, receive: Any, send: Any) -> Awaitable[None]:
        return self._handler(self)

    @property
    def scope(self) -> Any:
        return self._cycle.scope

    def complete_body(self) -> bytes | None:
        """The whole body when the parser has read all of it (a vote's head and body
        nearly always come in one segment); None while more is owed, or once the client
        has gone: then `receive` waits, under the body deadline, as any request does."""
        cycle = self._cycle
        if cycle.more_body or cycle.disconnected:
            return None
        body = bytes(cycle.body)
        cycle.body = bytearray()
        return body

    def receive(self) -> Awaitable[Any]:
        """The ASGI `receive` of the cycle: the body's next part, or `http.disconnect`."""
        return self._cycle.receive()

    async def drain(self) -> None:
        """Waits while the client does not read what it was sent: as uvicorn's `send`
        does, so a client that pipelines requests without reading fills no buffer."""
        cycle = self._cycle
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()

    def respond(self, status: int, headers: Headers, body: bytes) -> None:
        """Writes the whole answer at once. `headers` must hold `content-length`."""
        cycle = self._cycle
        if cycle.disconnected:
            return
        content = [STATUS_LINE[status]]
        for name, value in cycle.default_headers:
            content += (name, b": ", value, b"\r\n")
        for name, value in headers:
            if _BAD_VALUE.search(value):
                raise RuntimeError("Invalid HTTP header value.")  # uvicorn's words: a 500
            content += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content += (b"\r\n", body)
        cycle.response_started = True
        self._writes.write_whole(b"".join(content))
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            cycle.transport.close()
        cycle.on_response()


DirectHandler = Callable[[Exchange], Awaitable[None]]


class DirectApp:
    """An ASGI app some of whose requests have a direct handler (module docstring)."""

    def direct(self, scope: Any) -> DirectHandler | None:
        """The handler that answers this HTTP request directly, or None for the app's
        ASGI call. Asked once per request, with the head parsed: keep it cheap."""
        return None
