"""Seal a contest: every record in tree order → Merkle root → signed statement, once.

Why it is safe to seal while the service runs: the seal reads in one repeatable-read
snapshot, holding the contest row FOR SHARE (the window cannot open until the seal has
committed, and then migrations/0011 refuses it) and the contest's count lock of 0009 (no
void commits during the read, and any void after the seal is refused). A write to the
contest row in flight as the snapshot locks it (a reveal step right after the close)
makes PostgreSQL refuse the snapshot; nothing is stored then, and the seal takes its
snapshot again. A contest is sealed once: the first seal wins and later calls return it.

It runs on a connection of its own, outside the pool: reading ten million records takes
longer than the pool's statement timeout, and the session lock must never be left on a
pooled connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from scoring import result_to_json, score
from service.contests.models import Contest
from service.contests.repository import fetch_contest
from service.core.background import stop_tasks
from service.core.errors import ApiError, not_found
from service.results.sheet import contest_sheet
from service.seal import repository as sql
from service.seal.chunks import ChunkBuilder, LineSplitter
from service.seal.keys import SealKeys
from service.stores.postgres import connect
from service.verify.merkle import root_of
from service.verify.statement import SealStatement

log = logging.getLogger("silkvote.seal")
SNAPSHOT_ATTEMPTS = 5  # serialization failures of the seal's snapshot before giving up


def sealable(contest: Contest) -> None:
    """409 unless the audience window is closed and the jury (if any) is locked."""
    if contest.window == "open":
        raise ApiError(409, "window_open", "close audience voting before sealing the ledger")
    if contest.jury_size > 0 and not contest.jury_locked:
        raise ApiError(409, "jury_not_locked", "lock the jury before sealing the ledger")


class Sealer:
    """Seals on request (`seal`) and, in the background, when a show's window closes
    with its jury locked, or its jury locks after the close (`seal_when_ready`)."""

    def __init__(self, database_url: str, keys: SealKeys) -> None:
        self._url = database_url
        self._keys = keys
        self._running: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await stop_tasks(list(self._running))

    def seal_when_ready(self, contest: Contest,
                        announce: Callable[[str], Awaitable[None]]) -> None:
        """Seal in the background if `contest` (as just changed) can be sealed, then
        `announce(contest id)` (so pages show the fingerprint at once)."""
        try:
            sealable(contest)
        except ApiError:
            return
        task = asyncio.ensure_future(self._seal_logged(contest.id, announce))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _seal_logged(self, contest_id: str,
                           announce: Callable[[str], Awaitable[None]]) -> None:
        try:
            _, made = await self.seal(contest_id)
            if made:
                await announce(contest_id)
                await self.index_receipts(contest_id)
        except ApiError as exc:
            log.info("%s not sealed: %s", contest_id, exc)
        except Exception:
            log.exception("sealing %s failed; POST /api/v1/contests/%s/seal retries",
                          contest_id, contest_id)

    async def seal(self, contest_id: str) -> tuple[Any, bool]:
        """(the seal row, whether this call made it)."""
        conn = await connect(self._url)
        try:
            await conn.execute(sql.COUNT_LOCK, contest_id)
            existing = await sql.seal_row(conn, contest_id)
            if existing is not None:
                return existing, False
            started = time.perf_counter()
            for attempt in range(SNAPSHOT_ATTEMPTS):
                try:
                    row = await self._seal_in_snapshot(conn, contest_id)
                    break
                except asyncpg.SerializationError:
                    # a write to the contest row (a reveal step, the freeze) was in
                    # flight as the snapshot took its lock: nothing was stored, take it
                    # again (the count lock is still held, so no one else seals)
                    if attempt == SNAPSHOT_ATTEMPTS - 1:
                        raise
                    log.info("sealing %s: a concurrent write to the contest refused the "
                             "snapshot; taking it again", contest_id)
            log.info("sealed %s: %d records, root %s, %.1f s", contest_id, row["records"],
                     row["root"].hex()[:16], time.perf_counter() - started)
            sealed = await sql.seal_row(conn, contest_id)
            return sealed, True
        finally:
            await conn.close()  # ends the session, and with it the count lock

    async def _seal_in_snapshot(self, conn: Any, contest_id: str) -> dict[str, Any]:
        async with conn.transaction(isolation="repeatable_read"):
            await conn.execute("SELECT 1 FROM contests WHERE id = $1 FOR SHARE", contest_id)
            contest = await fetch_contest(conn, contest_id)
            if contest is None:
                raise not_found(f"contest {contest_id!r}")
            sealable(contest)
            row, chunks = await self._build(conn, contest)
            await sql.store_seal(conn, row, chunks)
        return row

    def index_later(self, contest_id: str) -> None:
        """`index_receipts` in the background (the seal's caller need not wait for it)."""
        task = asyncio.ensure_future(self._index_logged(contest_id))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _index_logged(self, contest_id: str) -> None:
        try:
            await self.index_receipts(contest_id)
        except Exception:
            log.exception("indexing the receipts of %s failed (receipts still answer, "
                          "by a scan)", contest_id)

    async def index_receipts(self, contest_id: str) -> None:
        """After a seal: receipts become lookups by index (see repository)."""
        conn = await connect(self._url)
        try:
            started = time.perf_counter()
            await sql.index_receipts(conn, contest_id)
            log.info("receipts of %s indexed in %.1f s", contest_id,
                     time.perf_counter() - started)
        finally:
            await conn.close()

    async def _build(self, conn: Any, contest: Contest
                     ) -> tuple[dict[str, Any], list[tuple[str, int, bytes, bytes]]]:
        builder = ChunkBuilder()
        lines = LineSplitter(builder.add)
        await sql.stream_records(conn, contest.id, lines.feed)
        await lines.finish()
        counts = await sql.official_counts(conn, contest.id)
        rankings = await sql.locked_rankings(conn, contest.id) if contest.jury_locked else None
        ballots = sum(len(b) for b in rankings.values()) if rankings else 0
        result_json = result_to_json(score(contest_sheet(contest, counts, rankings)))
        root = root_of(builder.chunk_roots)
        sealed_at = await conn.fetchval("SELECT clock_timestamp()")
        statement = SealStatement(
            contest=contest.id, records=builder.size, votes=builder.size - ballots,
            ballots=ballots, root=root.hex(), result=hashlib.sha256(result_json).hexdigest(),
            sealed_at=sealed_at)
        signed = statement.signed_bytes()
        row = {
            "contest_id": contest.id, "statement": signed.decode(), "root": root,
            "records": builder.size, "votes": builder.size - ballots, "ballots": ballots,
            "result": result_json.decode(), "public_key": self._keys.public_key(contest.id),
            "signature": self._keys.sign(contest.id, signed),
            "chunk_roots": b"".join(builder.chunk_roots), "sealed_at": sealed_at,
        }
        chunks = [(contest.id, i, c.first_key, c.leaves) for i, c in enumerate(builder.chunks)]
        return row, chunks
