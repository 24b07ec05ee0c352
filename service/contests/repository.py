"""Contest rows in PostgreSQL: create, read, and change their state.

Creating a contest also creates its ledger partition, so the vote hot path never
touches DDL. The functions take a connection so they compose inside one transaction
(the demo seed, the ledger benchmark); `ContestStore` is what the API and the
operators' commands use, one pooled connection per call.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

import asyncpg
import msgspec

from scoring import Rules
from service.audit.chain import record_event
from service.contests.models import Contest, ContestIn, EntryIn
from service.stores.postgres import Conn


def new_contest_id(name: str) -> str:
    """A readable, URL-safe id: the name's slug plus a short random suffix."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "contest"
    return f"{slug}-{secrets.token_hex(3)}"


# Per contest: spreads one show's inserts and index pages over that many B-trees. Each
# call of record_votes pays for every sub-partition it plans and touches: with 8, a
# call of 8 to 24 votes cost PostgreSQL about 200 µs (a sixth) more CPU than with 4
# (`python -m loadtests.bench.ledger_calls`). Contests created before keep their 8.
LEDGER_HASH_PARTITIONS = 4


def partition_name(contest_id: str) -> str:
    """Readable when short; hashed when `votes_<id>_hN` would pass PostgreSQL's 63 bytes."""
    name = "votes_" + contest_id.replace("-", "_")
    if len(name) > 58:
        name = "votes_" + hashlib.sha256(contest_id.encode()).hexdigest()[:24]
    return name


async def create_ledger_partition(conn: Conn, contest_id: str,
                                  hash_partitions: int = LEDGER_HASH_PARTITIONS) -> None:
    """The contest's slice of the ledger, itself split by hash of the dedupe key.

    The service's role owns no table, so the owner's SECURITY DEFINER function creates
    them, each with its TRUNCATE guard (migrations/0010).
    """
    await conn.execute("SELECT create_ledger_partition($1, $2, $3)",
                       contest_id, partition_name(contest_id), hash_partitions)


async def insert_contest(conn: Conn, definition: ContestIn, vote_cap: int,
                         hash_partitions: int = LEDGER_HASH_PARTITIONS) -> str:
    """Store a validated definition and its ledger partition in one transaction
    (`hash_partitions`: the ledger microbench compares splits, loadtests/bench)."""
    contest_id = definition.id or new_contest_id(definition.name)
    rules = msgspec.to_builtins(definition.rules)
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO contests (id, name, rules, vote_cap, jury_size, jury_min_valid,
                                    opens_at, closes_at, results_visibility)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            contest_id, definition.name, rules, vote_cap,
            definition.jury_size, definition.jury_min_valid,
            definition.opens_at, definition.closes_at, definition.results_visibility,
        )
        await conn.executemany(
            """INSERT INTO entries (contest_id, country, running_order, artist, song)
               VALUES ($1, $2, $3, $4, $5)""",
            [(contest_id, e.country, e.running_order, e.artist, e.song)
             for e in definition.entries],
        )
        await conn.executemany(
            "INSERT INTO voting_countries (contest_id, country, position) VALUES ($1, $2, $3)",
            [(contest_id, c, i) for i, c in enumerate(definition.voting_countries)],
        )
        await create_ledger_partition(conn, contest_id, hash_partitions)
        await record_event(conn, contest_id, "admin", "contest_created", {"name": definition.name})
    return contest_id


def _contest_from_rows(row: Any, entries: list[Any], countries: list[Any]) -> Contest:
    return Contest(
        id=row["id"],
        name=row["name"],
        entries=[
            EntryIn(country=e["country"], running_order=e["running_order"],
                    artist=e["artist"], song=e["song"])
            for e in entries
        ],
        voting_countries=[c["country"] for c in countries],
        rules=msgspec.convert(row["rules"], Rules),
        vote_cap=row["vote_cap"],
        jury_size=row["jury_size"],
        jury_min_valid=row["jury_min_valid"],
        window=row["window_state"],
        jury_locked=row["jury_locked_at"] is not None,
        revealed=row["revealed"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        results_visibility=row["results_visibility"],
        hide_scores=bool(row["hide_scores"]),
        disqualified=[e["country"] for e in entries if e.get("status") == "disqualified"],
    )


async def fetch_contest(conn: Conn, contest_id: str) -> Contest | None:
    row = await conn.fetchrow(
        f"SELECT c.*, ({LATEST_DISPLAY}) AS hide_scores FROM contests c WHERE c.id = $1",
        contest_id,
    )
    if row is None:
        return None
    entries = await conn.fetch(
        "SELECT * FROM entries WHERE contest_id = $1 ORDER BY running_order", contest_id
    )
    countries = await conn.fetch(
        "SELECT country FROM voting_countries WHERE contest_id = $1 ORDER BY position", contest_id
    )
    return _contest_from_rows(row, entries, countries)


# The producer's display choices are audit events (who hid the scores, and when); the
# latest one is in force. A contest's trail is short (set-up, windows, ballots, reveal).
LATEST_DISPLAY = ("SELECT (a.detail->>'hide_scores')::boolean FROM audit_events a "
                  "WHERE a.contest_id = c.id AND a.kind = 'display' ORDER BY a.id DESC LIMIT 1")


async def set_display(conn: Conn, contest_id: str, hide_scores: bool) -> bool:
    """Record the overlay's hide-scores mode; False when the contest does not exist."""
    async with conn.transaction():
        if not await contest_exists(conn, contest_id):
            return False
        await record_event(conn, contest_id, "admin", "display", {"hide_scores": hide_scores})
    return True


async def list_contests(conn: Conn) -> list[tuple[str, str, str]]:
    rows = await conn.fetch("SELECT id, name, window_state FROM contests ORDER BY created_at")
    return [(r["id"], r["name"], r["window_state"]) for r in rows]


class RevealStarted(Exception):
    """Opening voting once the reveal has begun: the frozen result would no longer be
    the ledger's, and the announced points could change under the audience."""


async def set_window(conn: Conn, contest_id: str, state: str) -> bool:
    """Open or close audience voting; False when the contest does not exist.

    The row lock (FOR UPDATE) waits for ledger transactions that checked the window
    under FOR SHARE: a vote either committed before the close or sees it closed. The
    same lock orders an open against a reveal step (which advances only while the
    window is closed), so a reveal that has started can never be reopened: raises
    `RevealStarted`.
    """
    async with conn.transaction():
        revealed = await conn.fetchval(
            "SELECT revealed FROM contests WHERE id = $1 FOR UPDATE", contest_id
        )
        if revealed is None:
            return False
        if state == "open" and revealed > 0:
            raise RevealStarted(contest_id)
        await conn.execute(
            "UPDATE contests SET window_state = $2 WHERE id = $1", contest_id, state
        )
        await conn.execute(
            "INSERT INTO window_events (contest_id, state) VALUES ($1, $2)", contest_id, state
        )
        await record_event(conn, contest_id, "admin", f"window_{state}", {})
    return True


async def set_visibility(conn: Conn, contest_id: str, visibility: str) -> bool:
    """Change who sees the standings; False when the contest does not exist."""
    async with conn.transaction():
        updated = await conn.fetchval(
            "UPDATE contests SET results_visibility = $2 WHERE id = $1 RETURNING id",
            contest_id, visibility)
        if updated is None:
            return False
        await record_event(conn, contest_id, "admin", "results_visibility",
                           {"results_visibility": visibility})
    return True


async def insert_aggregator_key(
    conn: Conn, contest_id: str, name: str, key_hash: bytes
) -> str:
    key_id = "agg-" + secrets.token_hex(4)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO aggregator_keys (id, contest_id, name, key_hash) VALUES ($1, $2, $3, $4)",
            key_id, contest_id, name, key_hash,
        )
        await record_event(conn, contest_id, "admin", "aggregator_key_issued",
                           {"id": key_id, "name": name})
    return key_id


async def contest_exists(conn: Conn, contest_id: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM contests WHERE id = $1", contest_id))


async def contest_ids(conn: Conn) -> list[str]:
    return [r["id"] for r in await conn.fetch("SELECT id FROM contests ORDER BY id")]


class ContestStore:
    """Contest definitions and state in the ledger, each call on its own pooled connection."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, definition: ContestIn, vote_cap: int) -> str | None:
        """The new contest's id, or None when a contest with the requested id exists."""
        async with self._pool.acquire() as conn:
            if definition.id and await contest_exists(conn, definition.id):
                return None
            try:
                return await insert_contest(conn, definition, vote_cap)
            except asyncpg.UniqueViolationError:  # created meanwhile by a concurrent call
                if definition.id:
                    return None
                raise

    async def get(self, contest_id: str) -> Contest | None:
        async with self._pool.acquire() as conn:
            return await fetch_contest(conn, contest_id)

    async def summaries(self) -> list[tuple[str, str, str]]:
        async with self._pool.acquire() as conn:
            return await list_contests(conn)

    async def ids(self) -> list[str]:
        async with self._pool.acquire() as conn:
            return await contest_ids(conn)

    async def set_window(self, contest_id: str, state: str) -> bool:
        async with self._pool.acquire() as conn:
            return await set_window(conn, contest_id, state)

    async def set_visibility(self, contest_id: str, visibility: str) -> bool:
        async with self._pool.acquire() as conn:
            return await set_visibility(conn, contest_id, visibility)
    async def set_display(self, contest_id: str, hide_scores: bool) -> bool:
        async with self._pool.acquire() as conn:
            return await set_display(conn, contest_id, hide_scores)

    async def add_aggregator_key(self, contest_id: str, name: str, key_hash: bytes) -> str:
        async with self._pool.acquire() as conn:
            return await insert_aggregator_key(conn, contest_id, name, key_hash)
