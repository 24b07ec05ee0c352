"""Header and body timeouts against slow clients, in uvicorn's HTTP protocol.

uvicorn bounds only the idle time between requests (`timeout_keep_alive`). A client
that sends half a request head, or a head and then its body a byte at a time, holds
its connection (a file descriptor, buffers, for a body the request's task) for as long
as it likes: in a drill 3,000 such connections stayed open for a whole 85 s run. So
`SlowClientProtocol`, uvicorn's httptools protocol plus two deadlines:

* the request head must be complete `HEADER_TIMEOUT_S` after its first byte; otherwise
  the client gets `408` with the error body and the connection is closed (a new
  connection that sends nothing is closed after the idle `KEEPALIVE_TIMEOUT_S`, as
  uvicorn closes an idle kept-alive one);
* the body must be complete `BODY_TIMEOUT_S` after its head. Otherwise the request's
  own wait for the body ends in `ApiError(408, "request_timeout")`, so the app answers
  it like any refusal (the one error body, the access line, the latency series), and the
  connection closes after that answer.

Either close lingers (`SlowClientProtocol.linger`): a client cut off is often still
sending, and a socket closed outright answers that with a reset that loses the 408.

The head needs the protocol: an ASGI middleware sees a request only once its head is
complete. Doing the body here too keeps the vote path free of per-request costs: a
request whose head and body arrive together never touches a timer. A connection that
waits for its client is put in a dict that one timer per event loop sweeps every
`SWEEP_EVERY_S`; none is started per request or per connection, so a deadline fires up
to that much late.

It is also where a request the served app answers directly (`http_direct.py`, the
single vote) is handed over, in `_start_asgi_task`.

This subclasses uvicorn's protocol, overrides its `_start_asgi_task` and reads its
per-request state (`scope`, `cycle`, the cycle's `more_body`, `response_started` and
`message_event`; `http_direct.Exchange` reads a few more): checked against the uvicorn
versions pyproject.toml allows.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import weakref
from typing import Any, Literal

import msgspec
from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from service.core.errors import ApiError, ErrorBody, ErrorDetail
from service.core.http_direct import DirectApp, Exchange
from service.core.http_writes import HeadWithBody

SWEEP_EVERY_S = 0.5
BODY_GRACE_S = 5.0  # after the 408 is raised to the app: its answer, then the close
LINGER_S = 2.0  # after a 408: half-closed, what the client still sends is read and dropped


class Phase(enum.Enum):
    FRESH = "fresh"  # connected, nothing sent yet: the idle (keep-alive) timeout applies
    HEAD = "head"  # waiting for (the rest of) a request head
    BODY = "body"  # the head is in, the body is not complete
    IDLE = "idle"  # nothing owed by the client: the app's turn, or keep-alive
    ANSWERING = "answering"  # the body timed out; the app is answering 408
    UPGRADED = "upgraded"  # handed to the websocket protocol
    LINGERING = "lingering"  # the 408 is sent and the write side shut: draining the client


@functools.cache
def client_timeouts() -> tuple[float, float]:
    """(HEADER_TIMEOUT_S, BODY_TIMEOUT_S) of this process, read once: each worker loads
    the settings the parent validated, as its app factory does."""
    from service.core.config import load_settings

    settings = load_settings()
    return settings.header_timeout_s, settings.body_timeout_s


def _timeout_body(what: str, limit_s: float) -> bytes:
    return msgspec.json.encode(ErrorBody(ErrorDetail(
        "request_timeout", f"the request {what} did not arrive within {limit_s:g} s")))


def body_timeout_error(limit_s: float) -> ApiError:
    return ApiError(408, "request_timeout",
                    f"the request body did not arrive within {limit_s:g} s")


class _TimedOut(asyncio.Event):
    """Stands in for a request's `message_event` once its body timed out: the app's next
    wait for body data raises the 408 instead of waiting on."""

    def __init__(self, error: ApiError) -> None:
        super().__init__()
        self._error = error

    async def wait(self) -> Literal[True]:
        raise self._error

    def set(self) -> None:  # late body bytes or a disconnect: the answer is decided
        pass

    def clear(self) -> None:
        pass


class _ClosesLingering:
    """The transport as a request cycle sees it once its body timed out: the cycle's
    close after the 408 becomes the protocol's lingering close."""

    def __init__(self, transport: asyncio.Transport, protocol: SlowClientProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def close(self) -> None:
        self._protocol.linger()


class _Deadlines:
    """The connections of one event loop that wait for their client, and the one timer
    that sweeps them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiting: dict[SlowClientProtocol, None] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, connection: SlowClientProtocol) -> None:
        self._waiting[connection] = None
        if self._timer is None:
            self._timer = self._loop.call_later(SWEEP_EVERY_S, self._sweep)

    def discard(self, connection: SlowClientProtocol) -> None:
        self._waiting.pop(connection, None)

    def __len__(self) -> int:
        return len(self._waiting)

    def _sweep(self) -> None:
        now = self._loop.time()
        for connection in [c for c in self._waiting if c.deadline <= now]:
            connection.expire(now)
        self._timer = (self._loop.call_later(SWEEP_EVERY_S, self._sweep)
                       if self._waiting else None)


_deadlines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Deadlines] = (
    weakref.WeakKeyDictionary())


def deadlines_of(loop: asyncio.AbstractEventLoop) -> _Deadlines:
    found = _deadlines.get(loop)
    if found is None:
        found = _deadlines[loop] = _Deadlines(loop)
    return found


class SlowClientProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header and a body deadline (module docstring)."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout_s, self.body_timeout_s = client_timeouts()
        self.phase = Phase.IDLE
        self.deadline = 0.0
        self._deadlines = deadlines_of(self.loop)
        self._direct_app = self.app if isinstance(self.app, DirectApp) else None

    def _enter(self, phase: Phase, limit_s: float = 0.0) -> None:
        self.phase = phase
        if phase is Phase.IDLE or phase is Phase.UPGRADED:
            self._deadlines.discard(self)
        else:
            self.deadline = self.loop.time() + limit_s
            self._deadlines.add(self)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._writes = HeadWithBody(transport, self.loop)
        # A connection that has sent nothing is idle, not slow: pools and proxies open
        # connections ahead of their requests, so it gets the idle timeout, and the head
        # deadline starts with its first byte.
        self._enter(Phase.FRESH, self.timeout_keep_alive)

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadlines.discard(self)
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # not an upgrade: a new cycle
            cycle.transport = self._writes  # type: ignore[assignment]
            self._writes.next_response()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        """uvicorn starts each request's cycle here (and a pipelined one once its turn
        comes): a request the served app answers directly (`http_direct`) runs in the
        same kind of task, through the same `run_asgi`, with its handler as the app."""
        handler = (self._direct_app.direct(cycle.scope)
                   if self._direct_app is not None and app is self.app else None)
        if handler is not None:
            app = Exchange(cycle, self._writes, handler)
        super()._start_asgi_task(cycle, app)

    def handle_websocket_upgrade(self) -> None:
        self._enter(Phase.UPGRADED)
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        if self.phase is Phase.LINGERING:
            return  # the answer is sent: what the client still sends is dropped
        super().data_received(data)
        if self.phase is Phase.UPGRADED or self.phase is Phase.ANSWERING:
            return
        if self.transport.is_closing():  # refused as malformed (400), or closed by the app
            self._enter(Phase.IDLE)
            return
        phase = self._waiting_for()
        if phase is not self.phase:
            self._enter(phase, self.header_timeout_s if phase is Phase.HEAD
                        else self.body_timeout_s)

    def _waiting_for(self) -> Phase:
        """What the client owes now, from the parser's callbacks: a request whose head
        began has a scope without a method until the head is complete, and its cycle
        has `more_body` until the body is."""
        scope = self.scope
        if scope is None or "method" not in scope:
            return Phase.HEAD
        cycle = self.cycle
        if cycle is not None and cycle.scope is scope and cycle.more_body:
            return Phase.BODY
        return Phase.IDLE

    def expire(self, now: float) -> None:
        """The deadline passed (called by the sweep)."""
        if self.transport.is_closing():
            self._deadlines.discard(self)
            return
        if self.phase is Phase.FRESH:
            self._deadlines.discard(self)
            self.transport.close()
        elif self.phase is Phase.HEAD:
            self._head_timed_out()
        elif self.phase is Phase.BODY:
            self._body_timed_out(now)
        else:  # lingered long enough, or the app had its grace period to answer the 408
            self._deadlines.discard(self)
            self.transport.close()

    def linger(self) -> None:
        """Close after a 408 without losing it. A client cut off mid-request is often
        still sending; closed outright, the socket answers those bytes with a reset,
        and a reset makes the client's kernel drop the 408 it had not read yet. So, as
        nginx's lingering close: shut the write side once the 408 is flushed, read and
        drop what still comes, and close on the client's EOF (asyncio closes when
        `eof_received` returns None) or after `LINGER_S`."""
        if self.transport.is_closing():
            return
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.transport.resume_reading()  # a request whose body filled the buffer paused it
        self.phase, self.deadline = Phase.LINGERING, self.loop.time() + LINGER_S
        self._deadlines.add(self)

    def _head_timed_out(self) -> None:
        self._deadlines.discard(self)
        started = self.scope is not None and "method" not in self.scope
        previous = self.cycle
        if started and (previous is None or previous.response_complete):
            self._write_408(_timeout_body("head", self.header_timeout_s))
            self.linger()
            return
        self.transport.close()

    def _body_timed_out(self, now: float) -> None:
        cycle = self.cycle
        if cycle.response_started:  # the app answered without the body: just close
            self._deadlines.discard(self)
            self.transport.close()
            return
        cycle.keep_alive = False  # the connection closes after the 408, lingering
        cycle.transport = _ClosesLingering(self.transport, self)  # type: ignore[assignment]
        waiting = cycle.message_event
        cycle.message_event = _TimedOut(body_timeout_error(self.body_timeout_s))
        waiting.set()  # wake a receive() in progress; its next wait raises
        self.phase, self.deadline = Phase.ANSWERING, now + BODY_GRACE_S

    def _write_408(self, body: bytes) -> None:
        content = [STATUS_LINE[408]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"content-type: application/json\r\n",
                        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                        b"connection: close\r\n\r\n", body])
        self.transport.write(b"".join(content))
