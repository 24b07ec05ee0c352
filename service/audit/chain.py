"""Append-only audit trail with a per-contest, keyed hash chain.

Each event's hash is an HMAC-SHA256, keyed with `AUDIT_CHAIN_KEY` (a secret kept like
the others: the environment, else generated once into the data folder), over the
previous event's hash and the event's canonical JSON. Editing or deleting any past
event breaks every link after it, and without the key nobody can forge a consistent
replacement chain: a plain hash could be recomputed by anyone able to write the table.

The database appends an event only at the head of its chain (`append_audit_event`,
migrations/0010, a SECURITY DEFINER function: the service's role cannot INSERT into
the table), and the published checkpoint (head hash, count, time: `checkpoint`, served
at `GET /api/v1/contests/{cid}/audit/checkpoint`) lets an outsider pin the chain, so a
rewrite by someone who holds the key, or a superuser, still shows against the pin.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from service.stores.postgres import Conn

_chain_key: bytes | None = None


def use_chain_key(secret: str) -> None:
    """Set this process's chain key (open_runtime does, from the settings)."""
    global _chain_key
    _chain_key = secret.encode()


def chain_key() -> bytes:
    """The key in use; loaded from the settings the first time if nobody set it (the
    CLI's seed and migrate steps write events without a runtime)."""
    if _chain_key is None:
        from service.core.config import load_settings

        use_chain_key(load_settings().audit_chain_key)
    assert _chain_key is not None
    return _chain_key


class Checkpoint(msgspec.Struct, frozen=True):
    """Where a contest's chain stands: pin it, and any later rewrite of the events up to
    it shows (`verify_chain(..., pinned=...)`)."""

    contest_id: str
    events: int  # how many events the chain holds
    head_hash: str | None  # the hash of the last one (None: no event yet)
    head_at: datetime | None  # when the last one was written
    algorithm: str = "hmac-sha256"


def event_hash(prev_hash: str | None, contest_id: str | None, actor: str, kind: str,
               detail: dict[str, Any], at: datetime, key: bytes | None = None) -> str:
    """The chain link: HMAC-SHA256 over the previous hash and the event's canonical JSON."""
    canonical = msgspec.json.encode(
        [prev_hash, contest_id, actor, kind, detail, at.isoformat()], order="sorted"
    )
    return hmac.new(key if key is not None else chain_key(), canonical,
                    hashlib.sha256).hexdigest()


async def record_event(conn: Conn, contest_id: str | None, actor: str, kind: str,
                       detail: dict[str, Any]) -> str:
    """Append one event; call inside the transaction of the change it records."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", contest_id or "")
    prev = await conn.fetchval(
        "SELECT event_hash FROM audit_events WHERE contest_id IS NOT DISTINCT FROM $1 "
        "ORDER BY id DESC LIMIT 1", contest_id,
    )
    at = datetime.now(UTC)
    digest = event_hash(prev, contest_id, actor, kind, detail, at)
    await conn.execute("SELECT append_audit_event($1, $2, $3, $4, $5, $6, $7)",
                       contest_id, actor, kind, detail, prev, digest, at)
    return digest


async def checkpoint(conn: Conn, contest_id: str) -> Checkpoint:
    """The chain's head and length now (one index range read)."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, (array_agg(event_hash ORDER BY id DESC))[1] AS head, "
        "max(at) AS at FROM audit_events WHERE contest_id = $1", contest_id)
    assert row is not None  # an aggregate always answers one row
    return Checkpoint(contest_id, int(row["n"]), row["head"], row["at"])


async def verify_chain(conn: Conn, contest_id: str | None,
                       pinned: Checkpoint | None = None) -> list[str]:
    """Problems found walking a contest's chain (empty list = intact): a link whose
    hash is not the keyed hash of its event, and, given a pinned checkpoint, a chain
    shorter than the pin or whose event at the pin is not the pinned head."""
    rows = await conn.fetch(
        "SELECT * FROM audit_events WHERE contest_id IS NOT DISTINCT FROM $1 ORDER BY id",
        contest_id,
    )
    key = chain_key()
    problems, prev = [], None
    for row in rows:
        expected = event_hash(prev, row["contest_id"], row["actor"], row["kind"],
                              row["detail"], row["at"], key)
        if row["prev_hash"] != prev or not hmac.compare_digest(row["event_hash"] or "",
                                                               expected):
            problems.append(f"audit event {row['id']} ({row['kind']}) does not match its chain")
        prev = row["event_hash"]
    if pinned is not None and pinned.events > 0:
        if len(rows) < pinned.events:
            problems.append(f"the chain holds {len(rows)} events, fewer than the "
                            f"{pinned.events} of the pinned checkpoint")
        elif rows[pinned.events - 1]["event_hash"] != pinned.head_hash:
            problems.append(f"event {pinned.events} of the chain is not the pinned head "
                            f"{pinned.head_hash}: the chain was rewritten")
    return problems


class AuditLog:
    """The audit trail as the operators' commands and the checkpoint route read it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def checkpoint(self, contest_id: str) -> Checkpoint:
        async with self._pool.acquire() as conn:
            return await checkpoint(conn, contest_id)

    async def problems(self, contest_id: str, pinned: Checkpoint | None = None) -> list[str]:
        """Breaks in the hash chain, and ballots whose hash the chain does not record."""
        async with self._pool.acquire() as conn:
            problems = await verify_chain(conn, contest_id, pinned)
            orphans = await conn.fetch(
                """SELECT b.id FROM ballots b WHERE b.contest_id = $1 AND NOT EXISTS (
                     SELECT 1 FROM audit_events a WHERE a.contest_id = $1
                        AND a.kind = 'ballot_saved'
                        AND a.detail->>'ballot_hash' = b.ballot_hash)""",
                contest_id,
            )
        return problems + [f"ballot {r['id']} has no audit event with its hash"
                           for r in orphans]

    async def events(self, contest_id: str) -> list[Any]:
        return await self._pool.fetch(
            "SELECT id, at, actor, kind, detail::text AS detail, prev_hash, event_hash "
            "FROM audit_events WHERE contest_id = $1 ORDER BY id", contest_id)
