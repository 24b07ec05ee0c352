"""A raw HTTP/1.1 keep-alive client on an asyncio protocol.

General clients (httpx, aiohttp) spend more CPU per request than the service does on
`/healthz`; on a machine whose cores the generator shares with the service they would
measure themselves. This one parses only the status line and Content-Length, keeps one
request in flight per connection, and runs on uvloop when it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import cast


def fast_loop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._waiter is None:
            return
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buf[:end]).lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            eol = head.find(b"\r\n", at)
            length = int(head[at + 15:eol if eol >= 0 else len(head)])
        total = end + 4 + length
        if len(self._buf) < total:
            return
        status = int(head[9:12])
        body = bytes(self._buf[end + 4:total])
        del self._buf[:total]
        waiter, self._waiter = self._waiter, None
        if not waiter.done():
            waiter.set_result((status, body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self._waiter


async def connect_http(host: str, port: int) -> HttpConnection:
    _, protocol = await asyncio.get_running_loop().create_connection(
        HttpConnection, host, port)
    return protocol


def http_request(method: str, path: str, host: str, body: bytes = b"",
                 token: str | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body or method != "GET":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
