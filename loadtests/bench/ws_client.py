"""A raw websocket client that times leaderboard updates, for thousands at once.

Ten thousand subscribers on two cores leave no room for a general client's per-frame
cost, so this one does the handshake, reads unmasked server frames and answers pings,
nothing more. It times an update by the votes the board newly shows, never by `seq`,
because each service process numbers its own messages.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import msgspec


class WsClient(asyncio.Protocol):
    """A minimal websocket client: handshake, then unmasked server frames; answers pings."""

    def __init__(self, path: str, host: str, sink: WsSink) -> None:
        self._request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: c2lsa3ZvdGUtYmVuY2gtMQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        self._buf = bytearray()
        self._upgraded = False
        self._votes_seen: int | None = None  # votes in the last message this client got
        self._sink = sink
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.closed_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(False)
        if self.closed_code is None:
            self.closed_code = -1

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buf += data
        if not self._upgraded:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = self._buf[9:12] == b"101"
            del self._buf[:end + 4]
            self._upgraded = ok
            if not self.ready.done():
                self.ready.set_result(ok)
            if not ok:
                return
        buf = self._buf
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            length = buf[1] & 0x7F
            at = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, at = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + length:
                return
            payload = bytes(buf[at:at + length])
            del buf[:at + length]
            self._frame(opcode, payload, now)

    def _frame(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (0x1, 0x0):
            votes = _votes_in(payload)
            if self._votes_seen is not None and votes > self._votes_seen:
                self._sink.arrival(self._votes_seen, now)
            self._votes_seen = votes
        elif opcode == 0x9 and self.transport is not None:  # ping -> masked pong
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
        elif opcode == 0x8:
            self.closed_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 0
            self._sink.closes[self.closed_code] += 1
            if self.transport is not None:
                self.transport.close()


class _Board(msgspec.Struct):
    votes: dict[str, dict[str, int]] = {}


class _Message(msgspec.Struct):
    results: _Board


_message_decoder = msgspec.json.Decoder(_Message)


class _VoteCounter:
    """Audience votes counted in a leaderboard message (msgspec skips the rest in C).

    Every client of a generator process receives the same bytes each tick (one message
    per service process), so the last few counts are kept: comparing bytes is far cheaper
    than parsing them again, and the generator shares the cores with the service.
    """

    KEEP = 4  # service processes whose latest message is remembered

    def __init__(self) -> None:
        self._recent: list[tuple[bytes, int]] = []

    def __call__(self, payload: bytes) -> int:
        for seen, votes in self._recent:
            if seen == payload:
                return votes
        board = _message_decoder.decode(payload).results
        votes = sum(sum(row.values()) for row in board.votes.values())
        self._recent = [(payload, votes), *self._recent[: self.KEEP - 1]]
        return votes


_votes_in = _VoteCounter()


@dataclass
class WsSink:
    """For all clients of a generator process: when an update arrived, keyed by how many
    votes the client had seen before it. The first vote an update newly shows is vote
    number `key` (0-based), whose send time the voter process knows: the pair gives the
    delay without relying on `seq`, which each service process numbers on its own."""

    arrivals: dict[int, list[float]] = field(default_factory=dict)
    closes: Counter[int] = field(default_factory=Counter)

    def arrival(self, votes_before: int, now: float) -> None:
        self.arrivals.setdefault(votes_before, []).append(now)
