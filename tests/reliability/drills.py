"""A drill's figures, written the same way by every drill: what the clients were told,
what the ledger holds, how long votes went unacknowledged, how long the live tallies
took to be exact again.

Each drill test ends with `record_drill(...)`, which counts from its `VoteLog` and the
ledger and writes one JSON file to `test-artifacts/drills/` (named after the drill).
`make drills` runs the drills and prints those files as one table
(`tests/reliability/drill_report.py`); docs/reliability.md quotes it.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import msgspec

from service.core.config import REPO_ROOT
from service.intake.ledger import app_dedupe_key
from service.security.credentials import voter_hash
from service.stores.postgres import connect
from tests.reliability.rig import VOTER_KEY, VoteLog

DRILLS = REPO_ROOT / "test-artifacts" / "drills"


class DrillRecord(msgspec.Struct):
    drill: str
    acknowledged: int  # votes the clients were told were recorded (201 or 200 duplicate)
    in_ledger: int  # rows of the drill's contest in the ledger
    lost: int  # acknowledged, but not in the ledger
    double: int  # ledger rows beyond one per vote (dedupe key)
    cap_breaches: int  # voters with more rows than the contest's cap
    outage_s: float  # the longest stretch without an acknowledgement (or the drill's own)
    exact_tallies_s: float  # until the live tallies equal the ledger again


def longest_silence_s(log: VoteLog) -> float:
    """The longest time between two acknowledgements of the load: how long the service
    took no vote, as its clients saw it."""
    times = sorted(log.ack_times)
    return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def file_name(drill: str) -> str:
    """`postgres primary kill -9` → `postgres-primary-kill-9.json`."""
    return re.sub(r"[^a-z0-9]+", "-", drill.lower()).strip("-") + ".json"


async def ledger_figures(database_url: str, cid: str, log: VoteLog, cap: int
                         ) -> tuple[int, int, int, int]:
    """(in_ledger, lost, double, cap_breaches) of contest `cid` against what `log` saw."""
    acked = {app_dedupe_key(voter_hash(VOTER_KEY, cid, log.attempted[key][0]), key)
             for key in log.acked}
    conn = await connect(database_url)
    try:
        rows = await conn.fetch("SELECT dedupe_key, voter_hash FROM votes WHERE contest_id=$1",
                                cid)
    finally:
        await conn.close()
    held = [bytes(r["dedupe_key"]) for r in rows]
    per_voter: dict[bytes, int] = {}
    for r in rows:
        per_voter[bytes(r["voter_hash"])] = per_voter.get(bytes(r["voter_hash"]), 0) + 1
    double = len(held) - len(set(held))  # one vote (one key) stored more than once
    breaches = sum(1 for n in per_voter.values() if n > cap)
    return len(held), len(acked - set(held)), double, breaches


async def record_drill(drill: str, database_url: str, cid: str, log: VoteLog, cap: int, *,
                       exact_tallies_s: float, outage_s: float | None = None,
                       folder: Path = DRILLS) -> DrillRecord:
    """Count the drill's figures and write them to `folder`/<drill>.json. `outage_s`
    defaults to the longest stretch without an acknowledgement in `log`."""
    in_ledger, lost, double, breaches = await ledger_figures(database_url, cid, log, cap)
    record = DrillRecord(
        drill=drill, acknowledged=len(log.acked), in_ledger=in_ledger, lost=lost,
        double=double, cap_breaches=breaches,
        outage_s=round(longest_silence_s(log) if outage_s is None else outage_s, 3),
        exact_tallies_s=round(exact_tallies_s, 3))
    folder.mkdir(parents=True, exist_ok=True)
    text = msgspec.json.format(msgspec.json.encode(record))
    (folder / file_name(drill)).write_bytes(text + b"\n")
    return record


def read_records(folder: Path = DRILLS) -> list[DrillRecord]:
    """Every record in `folder`, by drill name."""
    records = [msgspec.json.decode(path.read_bytes(), type=DrillRecord)
               for path in sorted(folder.glob("*.json"))]
    return sorted(records, key=lambda r: r.drill)
