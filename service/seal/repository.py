"""Every SQL statement of sealing: the canonical records out, the seal and its chunks in.

The records leave PostgreSQL already in their canonical form (service/verify/records.py)
and in tree order, through one `COPY … TO STDOUT`: formatting and sorting run in the
server, in C, while this process only splits lines and hashes them. The COPY framing is
CSV with 0x01 as delimiter and 0x02 as quote, bytes a record never holds (they are
escaped), so each COPY line is exactly one record.

Voids (migrations/0009) are joined in when their tables exist; without them every vote
is not void.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

import asyncpg

from service.audit.chain import record_event
from service.jury.repository import Rankings, jury_rankings
from service.stores.postgres import Conn

COUNT_LOCK = "SELECT pg_advisory_lock(hashtext('silkvote-count:' || $1::text))"
COUNT_UNLOCK = "SELECT pg_advisory_unlock(hashtext('silkvote-count:' || $1::text))"
COPY_OPTIONS: dict[str, Any] = {"format": "csv", "delimiter": "\x01", "quote": "\x02"}
UTC_TEXT = ("SET LOCAL timezone = 'UTC'", "SET LOCAL datestyle = 'ISO, YMD'")

_VOID_JOIN = """LEFT JOIN voided_votes vv
                   ON vv.contest_id = v.contest_id AND vv.dedupe_key = v.dedupe_key
                LEFT JOIN voids vo ON vo.id = vv.void_id"""


def vote_line_sql(with_voids: bool, channel: str = "v.channel") -> str:
    void_flag = "CASE WHEN vv.void_id IS NULL THEN '0' ELSE '1' END" if with_voids else "'0'"
    reason = "seal_escape(coalesce(vo.reason, ''))" if with_voids else "''"
    return (f"concat_ws(E'\\t', 'v', encode(v.dedupe_key, 'hex'), "
            f"encode(v.voter_hash, 'hex'), v.voting_country, v.entry, "
            f"seal_escape({channel}), v.received_at::text, {void_flag}, {reason})")


VOTE_KEY_SQL = "v.voting_country::bytea || '\\x76'::bytea || v.dedupe_key"  # country, 'v'
BALLOT_LINE_SQL = """concat_ws(E'\\t', 'b', j.country, seal_escape(b.juror_id),
    array_to_string(ARRAY(SELECT jsonb_array_elements_text(b.ranking)), ','),
    b.submitted_at::text, b.ballot_hash)"""
BALLOT_KEY_SQL = "j.country::bytea || '\\x62'::bytea || b.juror_id::bytea"  # country, 'b'
LATEST_BALLOTS = """(SELECT DISTINCT ON (juror_id) * FROM ballots WHERE contest_id = $1
                      ORDER BY juror_id, id DESC) b JOIN jurors j ON j.id = b.juror_id"""


def records_sql(with_voids: bool, country: bool = False, channel: str = "v.channel") -> str:
    """Every record of $1 (of voting country $2 when `country`), in tree order."""
    joins = _VOID_JOIN if with_voids else ""
    vote_filter = " AND v.voting_country = $2" if country else ""
    ballot_filter = " WHERE j.country = $2" if country else ""
    return f"""SELECT line FROM (
        SELECT {vote_line_sql(with_voids, channel)} AS line, {VOTE_KEY_SQL} AS k
          FROM votes v {joins} WHERE v.contest_id = $1{vote_filter}
        UNION ALL
        SELECT {BALLOT_LINE_SQL}, {BALLOT_KEY_SQL} FROM {LATEST_BALLOTS}{ballot_filter}
    ) r ORDER BY k"""


async def has_voids(conn: Conn) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass('voided_votes') IS NOT NULL"))


async def channel_column(conn: Conn) -> str:
    """`v.channel` (migrations/0008); a schema before it has only `source`."""
    found = await conn.fetchval(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'votes'::regclass "
        "AND attname = 'channel' AND NOT attisdropped")
    return "v.channel" if found else "v.source"


Sink = Callable[[bytes], Coroutine[Any, Any, None]]


async def stream_records(conn: Conn, contest: str, sink: Sink, country: str | None = None
                         ) -> None:
    """COPY the canonical records to `sink` (raw COPY data: lines, split anywhere).

    Runs in the caller's transaction; it sets the session's time zone and date style for
    the transaction only, so the times are written as the records define them."""
    for statement in UTC_TEXT:
        await conn.execute(statement)
    query = records_sql(await has_voids(conn), country is not None, await channel_column(conn))
    args = (contest, country) if country is not None else (contest,)
    await conn.copy_from_query(query, *args, output=sink, **COPY_OPTIONS)


async def official_counts(conn: Conn, contest: str) -> dict[str, dict[str, int]]:
    """Votes that count (not void) by voting country and entry, in the caller's snapshot."""
    not_void = ("AND NOT EXISTS (SELECT 1 FROM voided_votes vv WHERE vv.contest_id = "
                "v.contest_id AND vv.dedupe_key = v.dedupe_key)") if await has_voids(conn) else ""
    rows = await conn.fetch(
        f"SELECT voting_country, entry, count(*) AS n FROM votes v WHERE contest_id = $1 "
        f"{not_void} GROUP BY voting_country, entry", contest)
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["voting_country"], {})[row["entry"]] = row["n"]
    return counts


async def locked_rankings(conn: Conn, contest: str) -> Rankings:
    return await jury_rankings(conn, contest)


async def record_count(conn: Conn, contest: str) -> tuple[int, int]:
    """(votes, latest ballots) of the contest, for the progress of a long seal."""
    votes = await conn.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", contest)
    ballots = await conn.fetchval(
        "SELECT count(DISTINCT juror_id) FROM ballots WHERE contest_id = $1", contest)
    return int(votes), int(ballots)


async def seal_row(conn: Conn, contest: str) -> Any:
    return await conn.fetchrow("SELECT * FROM seals WHERE contest_id = $1", contest)


async def store_seal(conn: Conn, row: dict[str, Any],
                     chunks: list[tuple[str, int, bytes, bytes]]) -> None:
    """The seal, its chunks and its audit event, in one transaction (the caller's)."""
    await conn.execute(
        """INSERT INTO seals (contest_id, statement, root, records, votes, ballots, result,
                              public_key, signature, chunk_roots, sealed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        row["contest_id"], row["statement"], row["root"], row["records"], row["votes"],
        row["ballots"], row["result"], row["public_key"], row["signature"],
        row["chunk_roots"], row["sealed_at"])
    if chunks:
        await conn.copy_records_to_table(
            "seal_chunks", records=chunks,
            columns=["contest_id", "chunk", "first_key", "leaves"])
    await record_event(conn, row["contest_id"], "admin", "ledger_sealed",
                       {"root": row["root"].hex(), "records": row["records"]})


async def chunk_leaves(conn: Conn, contest: str, chunk: int) -> bytes:
    leaves: bytes | None = await conn.fetchval(
        "SELECT leaves FROM seal_chunks WHERE contest_id = $1 AND chunk = $2", contest, chunk)
    return leaves or b""


async def chunk_at(conn: Conn, contest: str, key: bytes) -> tuple[int, bytes] | None:
    """The chunk whose range holds sort key `key`: (number, leaves)."""
    row = await conn.fetchrow(
        "SELECT chunk, leaves FROM seal_chunks WHERE contest_id = $1 AND first_key <= $2 "
        "ORDER BY first_key DESC LIMIT 1", contest, key)
    return None if row is None else (row["chunk"], row["leaves"])


async def index_receipts(conn: Conn, contest: str) -> None:
    """An index of the sealed contest's receipts, for `GET …/receipts/{id}`.

    The vote path has none (migrations/0008: it would cost every insert a probe); once
    sealed, the contest's ledger takes no more rows, so the index costs the show nothing.
    Building it takes a SHARE lock on the contest's partitions, which block only writes.
    The owner builds it (migrations/0015): the service's role owns no ledger table.
    """
    await conn.execute("SELECT index_sealed_receipts($1)", contest, timeout=None)


async def receipt_record(conn: Conn, contest: str, receipt: bytes) -> tuple[bytes, bytes] | None:
    """(canonical line, sort key) of the vote holding `receipt`, as the ledger has it now."""
    async with conn.transaction(readonly=True):
        for statement in UTC_TEXT:
            await conn.execute(statement)
        joins = _VOID_JOIN if await has_voids(conn) else ""
        channel = await channel_column(conn)
        if channel != "v.channel":
            return None  # no receipts before migrations/0008
        row = await conn.fetchrow(
            f"SELECT {vote_line_sql(bool(joins), channel)} AS line, {VOTE_KEY_SQL} AS k "
            f"FROM votes v {joins} WHERE v.contest_id = $1 AND v.receipt = $2",
            contest, receipt)
    return None if row is None else (row["line"].encode(), row["k"])


SUMMARY_COLUMNS = ("contest_id, statement, root, records, votes, ballots, public_key, "
                   "signature, sealed_at")


class SealStore:
    """Seals in the ledger, each call on its own pooled connection.

    `summary` is read with every results view (the leaderboard's ticks too): a seal never
    changes once made, so each process keeps the ones it has seen."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._summaries: dict[str, Any] = {}

    async def summary(self, contest: str) -> Any:
        """The seal without its chunk roots and result (None before the seal)."""
        known = self._summaries.get(contest)
        if known is None:
            known = await self._pool.fetchrow(
                f"SELECT {SUMMARY_COLUMNS} FROM seals WHERE contest_id = $1", contest)
            if known is not None:
                self._summaries[contest] = known
        return known

    async def get(self, contest: str) -> Any:
        async with self._pool.acquire() as conn:
            return await seal_row(conn, contest)

    async def sealed_at(self, contest: str) -> datetime | None:
        async with self._pool.acquire() as conn:
            at: datetime | None = await conn.fetchval(
                "SELECT sealed_at FROM seals WHERE contest_id = $1", contest)
            return at

    async def receipt(self, contest: str, receipt: bytes) -> tuple[bytes, bytes] | None:
        async with self._pool.acquire() as conn:
            return await receipt_record(conn, contest, receipt)

    async def chunk_at(self, contest: str, key: bytes) -> tuple[int, bytes] | None:
        async with self._pool.acquire() as conn:
            return await chunk_at(conn, contest, key)

    async def chunk_leaves(self, contest: str, chunk: int) -> bytes:
        async with self._pool.acquire() as conn:
            return await chunk_leaves(conn, contest, chunk)


async def sealed_chunks(conn: Conn, contest: str, first: int = 0, end: int | None = None
                        ) -> dict[int, bytes]:
    """Stored leaves of chunks [first, end) (all by default), by chunk number."""
    rows = await conn.fetch(
        "SELECT chunk, leaves FROM seal_chunks WHERE contest_id = $1 AND chunk >= $2 "
        "AND ($3::integer IS NULL OR chunk < $3) ORDER BY chunk", contest, first, end)
    return {row["chunk"]: row["leaves"] for row in rows}


async def channel_counts(conn: Conn, contest: str, country: str | None = None
                         ) -> dict[str, int]:
    channel = (await channel_column(conn)).removeprefix("v.")
    rows = await conn.fetch(
        f"SELECT {channel} AS channel, count(*) AS n FROM votes WHERE contest_id = $1 "
        f"AND ($2::text IS NULL OR voting_country = $2) GROUP BY 1 ORDER BY 1",
        contest, country)
    return {row["channel"]: row["n"] for row in rows}


async def void_counts(conn: Conn, contest: str, country: str | None = None
                      ) -> dict[str, int]:
    """Void votes by their void's reason (empty without the voids of 0009)."""
    if not await has_voids(conn):
        return {}
    rows = await conn.fetch(
        """SELECT vo.reason, count(*) AS n FROM voided_votes vv
             JOIN voids vo ON vo.id = vv.void_id
             JOIN votes v ON v.contest_id = vv.contest_id AND v.dedupe_key = vv.dedupe_key
            WHERE vv.contest_id = $1 AND ($2::text IS NULL OR v.voting_country = $2)
            GROUP BY vo.reason ORDER BY vo.reason""", contest, country)
    return {row["reason"]: row["n"] for row in rows}
