"""Operator tasks behind `silkvote recount`, `verify` and `export`.

Each works on a live system: the ledger stays the source of truth, tallies are
compared and repaired at one ledger batch number (safe while votes flow,
`service/intake/reconcile.py`), and nothing here deletes votes.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from service.contests.models import Contest
from service.intake.reconcile import Comparison
from service.runtime import Runtime


async def contest_ids(rt: Runtime, only: str | None) -> list[str]:
    if only:
        await rt.contests.get(only)  # 404-style error for an unknown id
        return [only]
    return await rt.contest_store.ids()


async def recount(rt: Runtime, contest: Contest) -> tuple[Comparison, int]:
    """Rebuild live tallies and cap counters of one contest from the ledger."""
    comparison = await rt.tally_check.recount(contest)
    caps_fixed = await rt.ledger.recount_caps(contest.id)
    return comparison, caps_fixed


async def export_ballots(rt: Runtime, contest_id: str, folder: Path) -> list[Path]:
    """Write every ballot version and the audit trail as CSV for the scrutineer."""
    ballots = await rt.jury.ballot_versions(contest_id)
    events = await rt.audit.events(contest_id)
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
