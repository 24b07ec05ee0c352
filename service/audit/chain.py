"""Append-only audit trail with a per-contest hash chain.

Each event's hash covers the previous event's hash, so editing or deleting any past
event breaks every hash after it; `silkvote verify --audit` re-walks the chain.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from service.stores.postgres import Conn


def event_hash(prev_hash: str | None, contest_id: str | None, actor: str, kind: str,
               detail: dict[str, Any], at: datetime) -> str:
    """The chain link: sha256 over the previous hash and the event's canonical JSON."""
    canonical = msgspec.json.encode(
        [prev_hash, contest_id, actor, kind, detail, at.isoformat()], order="sorted"
    )
    return hashlib.sha256(canonical).hexdigest()


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
    await conn.execute(
        """INSERT INTO audit_events (contest_id, actor, kind, detail, prev_hash, event_hash, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        contest_id, actor, kind, detail, prev, digest, at,
    )
    return digest


async def verify_chain(conn: Conn, contest_id: str | None) -> list[str]:
    """Problems found walking a contest's chain (empty list = intact)."""
    rows = await conn.fetch(
        "SELECT * FROM audit_events WHERE contest_id IS NOT DISTINCT FROM $1 ORDER BY id",
        contest_id,
    )
    problems, prev = [], None
    for row in rows:
        expected = event_hash(prev, row["contest_id"], row["actor"], row["kind"],
                              row["detail"], row["at"])
        if row["prev_hash"] != prev or row["event_hash"] != expected:
            problems.append(f"audit event {row['id']} ({row['kind']}) does not match its chain")
        prev = row["event_hash"]
    return problems


class AuditLog:
    """The audit trail as the operators' commands read it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def problems(self, contest_id: str) -> list[str]:
        """Breaks in the hash chain, and ballots whose hash the chain does not record."""
        async with self._pool.acquire() as conn:
            problems = await verify_chain(conn, contest_id)
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
