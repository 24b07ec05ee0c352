"""Writing votes to the PostgreSQL ledger, a whole batch per round trip.

The decision logic (window and its closing time, duplicates, caps, the voter's country,
a revoked aggregator key) lives in the `record_votes` SQL function (migrations/0002,
0008) so that it runs inside one transaction next to the data it guards.
Each call that accepts votes is a numbered ledger batch (migrations/0007): its tally
update carries the number, and the ledger can be read "at batch C" to compare the live
tallies with it at one consistent point (`service/intake/tally_cut.py`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Literal, NamedTuple

import asyncpg
import msgspec

from service.intake.tally_cut import (
    Counts,
    HeldCells,
    LedgerCut,
    Scope,
    advanced,
    held_ranges,
    ledger_at,
)
from service.stores.postgres import Conn

Outcome = Literal["accepted", "duplicate", "vote_cap_reached", "window_closed", "not_found",
                  "country_mismatch", "key_revoked"]
APP_SOURCE = "app"
APP_CHANNEL = "app"
RECEIPT_BYTES = 16
WINDOW_CLOSED_SQLSTATE = "SV001"  # record_votes: closes_at passed while the batch was written


class PendingVote(msgspec.Struct, frozen=True, gc=False):
    """One vote, validated against the contest, waiting for its ledger decision.

    Every vote builds one, single or in a batch: a frozen dataclass took 1.2 µs (a
    `object.__setattr__` per field), this Struct 0.08 µs. It holds only text and bytes,
    so it cannot be part of a reference cycle, and the garbage collector need not track
    it (`gc=False`)."""

    contest: str
    dedupe_key: bytes
    voter_hash: bytes
    country: str
    entry: str
    source: str
    channel: str = APP_CHANNEL  # 'app', 'sms', 'call', or the aggregator's name
    net_hash: bytes | None = None  # keyed hash of the client's network prefix
    token_hash: bytes | None = None  # keyed hash of the voter token


class Decision(NamedTuple):
    """The ledger's answer for one vote (a tuple: batches build thousands of them)."""

    outcome: Outcome
    seq: int
    cap: int
    batch: int = 0  # the ledger batch of the call's accepted votes; 0 if it accepted none
    receipt: bytes | None = None  # the vote's receipt: accepted now or earlier (duplicate)

    @property
    def remaining(self) -> int:
        return max(self.cap - self.seq, 0)


def receipt_text(receipt: bytes) -> str:
    """A receipt as the API shows it: base64url without padding (22 characters)."""
    return base64.urlsafe_b64encode(receipt).rstrip(b"=").decode()


def receipt_bytes(text: str) -> bytes | None:
    """The stored receipt of its API form, None for anything that is not one."""
    if len(text) != 22 or not text.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "==")
    except ValueError:
        return None
    return raw if receipt_text(raw) == text else None


def app_dedupe_key(voter_hash: bytes, idempotency_key: str) -> bytes:
    """Retries of one tap share a key; keys are scoped to the voter who sent them."""
    return hashlib.sha256(b"app\0" + voter_hash + b"\0" + idempotency_key.encode()).digest()


def aggregator_dedupe_key(aggregator_id: str, vote_id: str) -> bytes:
    """An aggregator's own vote id, scoped to that aggregator: re-sent batches dedupe."""
    return hashlib.sha256(f"agg\0{aggregator_id}\0{vote_id}".encode()).digest()


NO_BATCH_ABOVE = 2**62  # an upper bound of batch numbers, for "every batch above"
RECORD_VOTES_SQL = ("SELECT outcome, seq, cap, batch, receipt "
                    "FROM record_votes($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
CONFLICT_RETRIES = 3


def fresh_receipts(count: int) -> list[bytes]:
    """`count` receipts of 16 random bytes, from one read of the system's random source."""
    pool = secrets.token_bytes(RECEIPT_BYTES * count)
    return [pool[i:i + RECEIPT_BYTES] for i in range(0, len(pool), RECEIPT_BYTES)]


def _column(values: list[bytes | None]) -> list[bytes | None] | None:
    """An optional column as record_votes takes it: NULL when no vote has a value."""
    return values if any(v is not None for v in values) else None


async def record_votes(conn: Conn, contest: str, votes: list[PendingVote],
                       timeout_s: float | None = None,
                       aggregator: str | None = None) -> list[Decision]:
    """Decide and store `votes` (all of one contest) in one transaction.

    `aggregator` is the key id of an aggregator batch: the ledger refuses the batch
    (`key_revoked`) once that key is revoked, in whichever process revoked it. Every
    vote is offered a fresh receipt; an accepted vote keeps it, a duplicate answers the
    one stored with it.

    The call is a single statement, so it is its own transaction: no BEGIN and COMMIT
    round trips (each costs the service as much Python as the call itself). A timeout
    cancels the statement and with it the transaction. If the commit wins that race the
    caller still answers 503, and the client's retry with the same key finds the vote
    (`duplicate`), so it counts once either way. A batch that raced a concurrent retry of
    one of its votes (serialization failure) is re-run. A batch still being written when
    the contest's `closes_at` passes is rolled back by the ledger and refused here.
    """
    channels = [v.channel for v in votes]
    args = (
        contest,
        [v.dedupe_key for v in votes],
        [v.voter_hash for v in votes],
        [v.country for v in votes],
        [v.entry for v in votes],
        [v.source for v in votes],
        None if all(c == APP_CHANNEL for c in channels) else channels,
        fresh_receipts(len(votes)),
        _column([v.net_hash for v in votes]),
        _column([v.token_hash for v in votes]),
        aggregator,
    )
    for attempt in range(CONFLICT_RETRIES):
        try:
            rows = await conn.fetch(RECORD_VOTES_SQL, *args, timeout=timeout_s)
            break
        except asyncpg.SerializationError:
            if attempt == CONFLICT_RETRIES - 1:
                raise
        except asyncpg.PostgresError as exc:
            if exc.sqlstate != WINDOW_CLOSED_SQLSTATE:
                raise
            return [Decision("window_closed", 0, 0)] * len(votes)
    return [Decision(*row) for row in rows]


async def ledger_counts(conn: Conn, contest: str) -> dict[str, dict[str, int]]:
    """Official audience counts: voting country -> entry -> votes in the ledger that no
    void took out (migrations/0009)."""
    rows = await conn.fetch(
        "SELECT voting_country, entry, count(*) AS n FROM votes v "
        "WHERE contest_id = $1 AND NOT EXISTS (SELECT 1 FROM voided_votes x "
        "WHERE x.contest_id = $1 AND x.dedupe_key = v.dedupe_key) "
        "GROUP BY voting_country, entry",
        contest,
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["voting_country"], {})[row["entry"]] = row["n"]
    return counts


async def ledger_head(conn: Conn, contest: str) -> int:
    """The contest's last committed batch number (0 before its first)."""
    head = await conn.fetchval("SELECT batch FROM ledger_heads WHERE contest_id = $1", contest)
    return int(head or 0)


_HELD_CELLS_SQL = """
WITH r AS (SELECT * FROM unnest($2::integer[], $3::bigint[], $4::bigint[], $5::text[])
             AS r(s, after, upto, only_country)),
b AS MATERIALIZED (
    SELECT r.s, r.only_country, b.countries, b.entries, b.votes
      FROM r JOIN ledger_batches b
        ON b.contest_id = $1 AND b.batch > r.after AND b.batch <= r.upto)
SELECT s, NULL::text AS country, NULL::text AS entry, count(*)::bigint AS n
  FROM b GROUP BY s
UNION ALL
SELECT s, c.country, c.entry, sum(c.votes)::bigint
  FROM b CROSS JOIN LATERAL unnest(b.countries, b.entries, b.votes) AS c(country, entry, votes)
 WHERE b.only_country IS NULL OR c.country = b.only_country
 GROUP BY s, c.country, c.entry
UNION ALL
SELECT -1, NULL, NULL, batch FROM ledger_heads WHERE contest_id = $1
"""


async def held_cells(conn: Conn, contest: str, scopes: list[Scope], cut: int
                     ) -> list[HeldCells]:
    """For each scope (read from Redis just before), what the ledger holds in the batches
    it holds above `cut`: one statement, PostgreSQL adding the runs of batches up
    (`tally_cut.held_ranges`), so this process reads a few rows per scope however many
    batches a round spans."""
    wanted = [(i, run) for i, scope in enumerate(scopes) for run in held_ranges(scope, cut)]
    only = [scope.countries[0] if len(scope.countries) == 1 else None for scope in scopes]
    rows = await conn.fetch(
        _HELD_CELLS_SQL, contest, [i for i, _ in wanted], [run[0] for _, run in wanted],
        [run[1] for _, run in wanted], [only[i] for i, _ in wanted])
    head, present, expected = 0, [0] * len(scopes), [0] * len(scopes)
    for i, (after, upto) in wanted:
        expected[i] += upto - after
    sums: list[Counts] = [{} for _ in scopes]
    for row in rows:
        if row["s"] < 0:
            head = int(row["n"])
        elif row["country"] is None:
            present[row["s"]] = int(row["n"])
        else:
            sums[row["s"]].setdefault(row["country"], {})[row["entry"]] = int(row["n"])
    return [HeldCells(head, sums[i] if present[i] == expected[i] else None)
            for i in range(len(scopes))]


async def batch_sums(conn: Conn, contest: str, after: int, upto: int
                     ) -> tuple[int, dict[str, dict[str, int]]]:
    """How many batches are numbered above `after` and up to `upto`, and what they hold
    together, per voting country and entry: one read of that range (every batch holds
    a cell, so no row means no batch)."""
    rows = await conn.fetch(
        "WITH b AS (SELECT countries, entries, votes FROM ledger_batches "
        "WHERE contest_id = $1 AND batch > $2 AND batch <= $3) "
        "SELECT (SELECT count(*) FROM b) AS present, c.country, c.entry, "
        "sum(c.votes)::bigint AS n FROM b "
        "CROSS JOIN LATERAL unnest(b.countries, b.entries, b.votes) AS c(country, entry, votes) "
        "GROUP BY c.country, c.entry", contest, after, upto)
    added: dict[str, dict[str, int]] = {}
    for row in rows:
        added.setdefault(row["country"], {})[row["entry"]] = int(row["n"])
    return (int(rows[0]["present"]) if rows else 0), added


async def ledger_cut(conn: Conn, contest: str, cut: int) -> LedgerCut:
    """The ledger at batch `cut`: the counts, less what the batches above `cut` add, in
    one snapshot (batches commit in number order, so it sees exactly batches 1..its
    newest)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        counts = await ledger_counts(conn, contest)
        _, above = await batch_sums(conn, contest, cut, NO_BATCH_ABOVE)
    return ledger_at(counts, above, cut)


async def voter_votes_used(conn: Conn, contest: str, voter_hash: bytes) -> int:
    used = await conn.fetchval(
        "SELECT votes_used FROM voters WHERE contest_id = $1 AND voter_hash = $2",
        contest, voter_hash,
    )
    return int(used or 0)


async def recount_caps(conn: Conn, contest: str) -> int:
    """Set every voter's cap counter to their votes in the ledger; returns rows changed.

    Holds the contest row lock for the moment it runs, so no ledger batch interleaves.
    """
    changed = await conn.fetchval("SELECT recount_caps($1)", contest)  # 0010, the owner's
    return int(changed)


class VoteLedger:
    """The audience votes in PostgreSQL: what the API, results and repair read and write.

    Every call bounds its wait for a pooled connection by `timeout_s`, so a stalled
    server answers 503 instead of holding requests.
    """

    def __init__(self, pool: asyncpg.Pool, timeout_s: float) -> None:
        self._pool = pool
        self._timeout_s = timeout_s

    async def record(self, contest: str, votes: list[PendingVote], timeout_s: float,
                     aggregator: str | None = None) -> list[Decision]:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await record_votes(conn, contest, votes, timeout_s, aggregator)

    async def counts(self, contest: str) -> dict[str, dict[str, int]]:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await ledger_counts(conn, contest)

    async def head(self, contest: str) -> int:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await ledger_head(conn, contest)

    async def at(self, contest: str, cut: int) -> LedgerCut:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await ledger_cut(conn, contest, cut)

    async def advance(self, contest: str, known: LedgerCut, cut: int) -> LedgerCut | None:
        """The ledger at `cut` from `known` and the batches since (`tally_cut.advanced`):
        the batches up to `cut` summed by PostgreSQL (a range of the batches table, not a
        count of every vote, and a few rows for this process to read)."""
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            present, added = await batch_sums(conn, contest, known.cut, cut)
        return advanced(known, added, present, cut)

    async def held(self, contest: str, scopes: list[Scope], cut: int) -> list[HeldCells]:
        """What the ledger holds in the batches each scope holds above `cut`; call it
        after reading the scopes, so every batch they hold is committed."""
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await held_cells(conn, contest, scopes, cut)

    async def votes_used(self, contest: str, voter_hash: bytes) -> int:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await voter_votes_used(conn, contest, voter_hash)

    async def recount_caps(self, contest: str) -> int:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await recount_caps(conn, contest)
