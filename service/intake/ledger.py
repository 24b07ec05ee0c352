"""Writing votes to the PostgreSQL ledger, a whole batch per round trip.

The decision logic (window, duplicates, caps) lives in the `record_votes` SQL function
(migrations/0002) so that it runs inside one transaction next to the data it guards.
Each call that accepts votes is a numbered ledger batch (migrations/0007): its tally
update carries the number, and the ledger can be read "at batch C" to compare the live
tallies with it at one consistent point (`service/intake/tally_cut.py`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, NamedTuple

import asyncpg

from service.intake.tally_cut import Cells, LedgerCut, ledger_at
from service.stores.postgres import Conn

Outcome = Literal["accepted", "duplicate", "vote_cap_reached", "window_closed", "not_found"]
APP_SOURCE = "app"


@dataclass(frozen=True, slots=True)
class PendingVote:
    """One vote, validated against the contest, waiting for its ledger decision."""

    contest: str
    dedupe_key: bytes
    voter_hash: bytes
    country: str
    entry: str
    source: str


class Decision(NamedTuple):
    """The ledger's answer for one vote (a tuple: batches build thousands of them)."""

    outcome: Outcome
    seq: int
    cap: int
    batch: int = 0  # the ledger batch of the call's accepted votes; 0 if it accepted none

    @property
    def remaining(self) -> int:
        return max(self.cap - self.seq, 0)


def app_dedupe_key(voter_hash: bytes, idempotency_key: str) -> bytes:
    """Retries of one tap share a key; keys are scoped to the voter who sent them."""
    return hashlib.sha256(b"app\0" + voter_hash + b"\0" + idempotency_key.encode()).digest()


def aggregator_dedupe_key(aggregator_id: str, vote_id: str) -> bytes:
    """An aggregator's own vote id, scoped to that aggregator: re-sent batches dedupe."""
    return hashlib.sha256(f"agg\0{aggregator_id}\0{vote_id}".encode()).digest()


RECORD_VOTES_SQL = "SELECT outcome, seq, cap, batch FROM record_votes($1, $2, $3, $4, $5, $6)"
CONFLICT_RETRIES = 3


async def record_votes(conn: Conn, contest: str, votes: list[PendingVote],
                       timeout_s: float | None = None) -> list[Decision]:
    """Decide and store `votes` (all of one contest) in one transaction.

    The call is a single statement, so it is its own transaction: no BEGIN and COMMIT
    round trips (each costs the service as much Python as the call itself). A timeout
    cancels the statement and with it the transaction. If the commit wins that race the
    caller still answers 503, and the client's retry with the same key finds the vote
    (`duplicate`), so it counts once either way. A batch that raced a concurrent retry of
    one of its votes (serialization failure) is re-run.
    """
    args = (
        contest,
        [v.dedupe_key for v in votes],
        [v.voter_hash for v in votes],
        [v.country for v in votes],
        [v.entry for v in votes],
        [v.source for v in votes],
    )
    for attempt in range(CONFLICT_RETRIES):
        try:
            rows = await conn.fetch(RECORD_VOTES_SQL, *args, timeout=timeout_s)
            break
        except asyncpg.SerializationError:
            if attempt == CONFLICT_RETRIES - 1:
                raise
    return [Decision(*row) for row in rows]


async def ledger_counts(conn: Conn, contest: str) -> dict[str, dict[str, int]]:
    """Official audience counts: voting country -> entry -> votes in the ledger."""
    rows = await conn.fetch(
        "SELECT voting_country, entry, count(*) AS n FROM votes "
        "WHERE contest_id = $1 GROUP BY voting_country, entry",
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


async def batches_after(conn: Conn, contest: str, after: int) -> dict[int, Cells]:
    """The cells of every committed batch numbered above `after`."""
    rows = await conn.fetch(
        "SELECT batch, countries, entries, votes FROM ledger_batches "
        "WHERE contest_id = $1 AND batch > $2 ORDER BY batch",
        contest, after,
    )
    return {row["batch"]: list(zip(row["countries"], row["entries"], row["votes"], strict=True))
            for row in rows}


async def ledger_cut(conn: Conn, contest: str, cut: int) -> LedgerCut:
    """The ledger at batch `cut`: the counts and the batches above `cut` in one snapshot
    (batches commit in number order, so it sees exactly batches 1..its newest)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        counts = await ledger_counts(conn, contest)
        later = await batches_after(conn, contest, cut)
    return ledger_at(counts, later, cut)


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
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM contests WHERE id = $1 FOR UPDATE", contest)
        status = await conn.execute(
            """UPDATE voters v SET votes_used = c.n
                 FROM (SELECT voter_hash, count(*)::int AS n FROM votes
                        WHERE contest_id = $1 GROUP BY voter_hash) c
                WHERE v.contest_id = $1 AND v.voter_hash = c.voter_hash
                  AND v.votes_used <> c.n""",
            contest,
        )
    return int(status.split()[-1])


class VoteLedger:
    """The audience votes in PostgreSQL: what the API, results and repair read and write.

    Every call bounds its wait for a pooled connection by `timeout_s`, so a stalled
    server answers 503 instead of holding requests.
    """

    def __init__(self, pool: asyncpg.Pool, timeout_s: float) -> None:
        self._pool = pool
        self._timeout_s = timeout_s

    async def record(self, contest: str, votes: list[PendingVote],
                     timeout_s: float) -> list[Decision]:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await record_votes(conn, contest, votes, timeout_s)

    async def counts(self, contest: str) -> dict[str, dict[str, int]]:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await ledger_counts(conn, contest)

    async def head(self, contest: str) -> int:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await ledger_head(conn, contest)

    async def at(self, contest: str, cut: int) -> LedgerCut:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await ledger_cut(conn, contest, cut)

    async def catch_up(self, contest: str, ledger: LedgerCut) -> None:
        """Add to `ledger` the batches committed since it last looked."""
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            ledger.later.update(await batches_after(conn, contest, ledger.newest))

    async def votes_used(self, contest: str, voter_hash: bytes) -> int:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await voter_votes_used(conn, contest, voter_hash)

    async def recount_caps(self, contest: str) -> int:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return await recount_caps(conn, contest)
