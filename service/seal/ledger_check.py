"""Does the ledger still hold what was sealed? Record by record, naming the first change.

The seal kept every leaf hash (`seal_chunks`). `LedgerMatch` is fed the records as the
ledger has them now (the seal's own query, so the same order) and compares them chunk by
chunk with the sealed leaves: equal chunks cost one bytes comparison. At the first chunk
that differs it keeps that chunk and the next, then says what happened at the first
differing record: a row changed (same position, another hash), a row was added (the
sealed record comes one later) or a sealed record is missing (the ledger's comes one
earlier). `silkvote verify --seal` and every export use it, so no export is ever cut from
a ledger that no longer matches its seal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from service.seal import repository as sql
from service.seal.chunks import LineSplitter, split_leaves
from service.seal.models import seal_document
from service.stores.postgres import connect
from service.verify.diagnose import Mismatch, diagnose
from service.verify.merkle import CHUNK, leaf_hashes, root_of
from service.verify.statement import fingerprint, signature_holds


class LedgerMatch:
    """Feed canonical lines (in tree order) with `add(lines)`, then `finish()`."""

    def __init__(self, sealed: dict[int, bytes], size: int,
                 on_chunk: Callable[[list[bytes], bytes], Awaitable[None]] | None = None
                 ) -> None:
        self._sealed = sealed  # chunk number -> its leaves, joined
        self.size = size
        self.seen = 0
        self._on_chunk = on_chunk
        self._chunk = 0
        self._first_bad: int | None = None
        self._kept_lines: list[bytes] = []
        self._kept_leaves: list[bytes] = []
        self.mismatch: Mismatch | None = None

    async def add(self, lines: list[bytes]) -> None:
        leaves = leaf_hashes(lines)
        joined = b"".join(leaves)
        if self._on_chunk is not None:
            await self._on_chunk(lines, joined)
        if self._first_bad is None and joined != self._sealed.get(self._chunk, b""):
            self._first_bad = self._chunk
        if self._first_bad is not None and self._chunk <= self._first_bad + 1:
            self._kept_lines += lines
            self._kept_leaves += leaves
        self._chunk += 1
        self.seen += len(lines)

    def finish(self) -> Mismatch | None:
        if self._first_bad is None and self.seen == self.size:
            return None
        if self._first_bad is None:  # every chunk fed matched: the ledger lost its tail
            self._first_bad = self._chunk
        start = self._first_bad * CHUNK
        sealed = [leaf for c in (self._first_bad, self._first_bad + 1)
                  for leaf in split_leaves(self._sealed.get(c, b""))]
        now, lines = self._kept_leaves, self._kept_lines
        j = next((i for i, (a, b) in enumerate(zip(now, sealed, strict=False)) if a != b),
                 min(len(now), len(sealed)))
        self.mismatch = diagnose(start + j, now[j:], lines[j:], sealed[j:])
        return self.mismatch


def seal_consistent(row: Any, sealed: dict[int, bytes]) -> str | None:
    """None if the stored chunks rebuild the sealed root, else what is wrong."""
    roots = [root_of(split_leaves(sealed[c])) for c in sorted(sealed)]
    if b"".join(roots) != bytes(row["chunk_roots"]):
        return "the stored chunks do not match the seal's chunk roots"
    if root_of(roots) != bytes(row["root"]):
        return "the stored chunk roots do not rebuild the sealed root"
    return None


class SealReport(msgspec.Struct, kw_only=True):
    contest: str
    sealed: bool
    records: int = 0
    fingerprint: str = ""
    problems: list[str] = msgspec.field(default_factory=list)
    mismatch: Mismatch | None = None

    @property
    def ok(self) -> bool:
        return self.sealed and not self.problems


async def check_ledger(database_url: str, contest_id: str) -> SealReport:
    """The seal's own integrity (signature, stored chunks), then the ledger against it."""
    conn = await connect(database_url)
    try:
        row = await sql.seal_row(conn, contest_id)
        if row is None:
            return SealReport(contest=contest_id, sealed=False,
                              problems=[f"{contest_id} is not sealed"])
        report = SealReport(contest=contest_id, sealed=True, records=row["records"],
                            fingerprint=fingerprint(row["root"].hex()))
        if not signature_holds(seal_document(row)):
            report.problems.append("the seal's signature does not verify")
        sealed = await sql.sealed_chunks(conn, contest_id)
        damaged = seal_consistent(row, sealed)
        if damaged:
            report.problems.append(damaged)
        match = LedgerMatch(sealed, row["records"])
        splitter = LineSplitter(match.add)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            await sql.stream_records(conn, contest_id, splitter.feed)
        await splitter.finish()
        report.mismatch = match.finish()
        if report.mismatch is not None:
            report.problems.append(report.mismatch.message)
        return report
    finally:
        await conn.close()
