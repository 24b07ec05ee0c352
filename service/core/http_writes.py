"""One write per small response: the head waits for the body's first bytes.

uvicorn writes a response's head when the app sends `http.response.start` and its body
when the app sends `http.response.body`: two `send()` system calls, and two segments
for the client to read, for every answer. A vote's answer is about 120 bytes of head
and 80 of body, so the second call was a sizeable part of what the vote path spends
outside the vote itself (`docs/benchmarks.md`, the profile of the vote path).

`HeadWithBody` is the transport a request's cycle writes through: the cycle's first
write (the head) is held until its next write, and both go out as one. The held head
never waits past the current turn of the event loop (a `call_soon` flushes it), so a
streamed or slow body still gets its head at once; and a write after it, or a close,
sends it first, so bytes never change order.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HeadWithBody:
    """A connection's transport as its request cycles see it (module docstring).

    One per connection; `next_response()` arms it for each request's cycle. Only the
    first write of a cycle is held: the body of a streamed response goes out as it
    comes."""

    __slots__ = ("_first", "_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._first = False

    def next_response(self) -> None:
        self._first = True

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif self._first:
            self._first = False
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def write_whole(self, data: bytes) -> None:
        """A whole response in one write (`http_direct.Exchange`): nothing of it is held."""
        self._first = False
        self.write(data)

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # get_extra_info, pause_reading, …
        return getattr(self._transport, name)
