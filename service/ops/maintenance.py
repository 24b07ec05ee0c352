"""Operator tasks behind `silkvote recount`, `verify` and `export`.

Each works on a live system: the ledger stays the source of truth, tallies are
repaired by increments (safe while votes flow), and nothing here deletes votes.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.audit.chain import verify_chain
from service.contests.models import Contest
from service.intake.reconcile import Comparison, compare, repair
from service.runtime import Runtime
from service.stores.postgres import Conn

Progress = Callable[[str], None]


async def contest_ids(rt: Runtime, only: str | None) -> list[str]:
    if only:
        await rt.contests.get(only)  # 404-style error for an unknown id
        return [only]
    async with rt.pool.acquire() as conn:
        return [r["id"] for r in await conn.fetch("SELECT id FROM contests ORDER BY id")]


async def recount_caps(conn: Conn, contest_id: str) -> int:
    """Set every voter's cap counter to their votes in the ledger; returns rows changed.

    Holds the contest row lock for the moment it runs, so no ledger batch interleaves.
    """
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM contests WHERE id = $1 FOR UPDATE", contest_id)
        status = await conn.execute(
            """UPDATE voters v SET votes_used = c.n
                 FROM (SELECT voter_hash, count(*)::int AS n FROM votes
                        WHERE contest_id = $1 GROUP BY voter_hash) c
                WHERE v.contest_id = $1 AND v.voter_hash = c.voter_hash
                  AND v.votes_used <> c.n""",
            contest_id,
        )
    return int(status.split()[-1])


async def recount(rt: Runtime, contest: Contest) -> tuple[Comparison, int]:
    """Rebuild live tallies and cap counters of one contest from the ledger."""
    comparison = await compare(rt, contest)
    if comparison.differences:
        await repair(rt, contest, comparison.differences)
    async with rt.pool.acquire() as conn:
        caps_fixed = await recount_caps(conn, contest.id)
    return comparison, caps_fixed


async def audit_problems(rt: Runtime, contest_id: str) -> list[str]:
    """Breaks in the audit hash chain, and ballots whose hash is not in the chain."""
    async with rt.pool.acquire() as conn:
        problems = await verify_chain(conn, contest_id)
        orphans = await conn.fetch(
            """SELECT b.id FROM ballots b WHERE b.contest_id = $1 AND NOT EXISTS (
                 SELECT 1 FROM audit_events a WHERE a.contest_id = $1
                    AND a.kind = 'ballot_saved' AND a.detail->>'ballot_hash' = b.ballot_hash)""",
            contest_id,
        )
    problems += [f"ballot {r['id']} has no audit event with its hash" for r in orphans]
    return problems


async def export_ballots(rt: Runtime, contest_id: str, folder: Path) -> list[Path]:
    """Write every ballot version and the audit trail as CSV for the scrutineer."""
    async with rt.pool.acquire() as conn:
        ballots = await conn.fetch(
            """SELECT b.id, b.juror_id, j.country, j.name, b.submitted_at, b.ballot_hash,
                      b.ranking FROM ballots b JOIN jurors j ON j.id = b.juror_id
                WHERE b.contest_id = $1 ORDER BY b.id""", contest_id)
        events = await conn.fetch(
            "SELECT id, at, actor, kind, detail::text AS detail, prev_hash, event_hash "
            "FROM audit_events WHERE contest_id = $1 ORDER BY id", contest_id)
    return write_export(folder, contest_id, ballots, events)


def write_export(folder: Path, contest_id: str, ballots: list[Any], events: list[Any]
                 ) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ballots_path = folder / f"{contest_id}-ballots.csv"
    audit_path = folder / f"{contest_id}-audit.csv"
    with ballots_path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["version", "juror_id", "country", "juror_name", "submitted_at",
                         "ballot_hash", "latest", "ranking"])
        latest = {r["juror_id"]: r["id"] for r in ballots}
        for r in ballots:
            writer.writerow([r["id"], r["juror_id"], r["country"], r["name"],
                             r["submitted_at"].isoformat(), r["ballot_hash"],
                             "yes" if latest[r["juror_id"]] == r["id"] else "no",
                             " ".join(r["ranking"])])
    with audit_path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "at", "actor", "kind", "detail", "prev_hash", "event_hash"])
        for e in events:
            writer.writerow([e["id"], e["at"].isoformat(), e["actor"], e["kind"], e["detail"],
                             e["prev_hash"] or "", e["event_hash"]])
    return [ballots_path, audit_path]
