"""Canonical records streamed in, Merkle chunks out: the seal's and the export's hot loop.

COPY hands over data cut anywhere; `ChunkBuilder.feed` splits it into lines, and every
`CHUNK` lines become one chunk: its leaf hashes (joined, 32 bytes each), its root and the
sort key of its first record. Everything per line is one C call (split, one SHA-256);
Python works per chunk, so ten million records cost ten thousand trips through here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from service.verify.merkle import CHUNK, leaf_hashes, root_of
from service.verify.records import BallotRecord, parse


class Chunk(NamedTuple):
    first_key: bytes
    leaves: bytes  # 32-byte leaf hashes, in order
    root: bytes


def key_of(line: bytes) -> bytes:
    """The sort key of one record line, as the seal's SQL builds it (country, kind, key)."""
    record = parse(line)
    if isinstance(record, BallotRecord):
        return record.country.encode() + b"b" + record.juror.encode()
    return record.voting_country.encode() + b"v" + bytes.fromhex(record.key)


class ChunkBuilder:
    """`await add(lines)` CHUNK lines at a time (a `LineSplitter` does); read `chunks`."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.size = 0

    async def add(self, lines: list[bytes]) -> None:
        leaves = leaf_hashes(lines)
        self.chunks.append(Chunk(key_of(lines[0]), b"".join(leaves), root_of(leaves)))
        self.size += len(lines)

    @property
    def chunk_roots(self) -> list[bytes]:
        return [c.root for c in self.chunks]


class LineSplitter:
    """COPY data → whole lines, `CHUNK` at a time, to an async consumer."""

    def __init__(self, consume: Callable[[list[bytes]], Awaitable[None]],
                 raw: Callable[[bytes], Any] | None = None) -> None:
        self._consume = consume
        self._raw = raw
        self._rest = b""
        self._pending: list[bytes] = []

    async def feed(self, data: bytes) -> None:
        if self._raw is not None:
            self._raw(data)
        lines = (self._rest + data).split(b"\n")
        self._rest = lines.pop()
        pending = self._pending
        pending.extend(lines)
        if len(pending) >= CHUNK:
            whole = len(pending) - len(pending) % CHUNK
            for start in range(0, whole, CHUNK):
                await self._consume(pending[start:start + CHUNK])
            del pending[:whole]

    async def finish(self) -> None:
        if self._rest:
            self._pending.append(self._rest)
            self._rest = b""
        if self._pending:
            await self._consume(self._pending)
            self._pending = []


def split_leaves(joined: bytes) -> list[bytes]:
    return [joined[i:i + 32] for i in range(0, len(joined), 32)]
