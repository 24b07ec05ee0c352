"""Keep live tallies equal to the ledger: compare, and repair drift that persists.

A vote is committed before its tally is incremented, so for a few milliseconds the two
legitimately differ. A difference is therefore acted on only when two reads, a moment
apart, show the same difference; the repair is an increment by the difference (never
an overwrite), which is safe while other processes keep incrementing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections import Counter
from typing import Any

import msgspec

from service.contests.models import Contest
from service.core import metrics
from service.intake.ledger import ledger_counts
from service.intake.tallies import Counts, add_to_tallies, differences, read_tallies
from service.runtime import Runtime

log = logging.getLogger("silkvote.reconcile")
SETTLE_S = 0.25
LEADER_KEY = "sv:reconciler:leader"


class Difference(msgspec.Struct):
    country: str
    entry: str
    live: int
    ledger: int


class Comparison(msgspec.Struct):
    ok: bool
    ledger_total: int
    live_total: int
    differences: list[Difference]


async def snapshot(rt: Runtime, contest: Contest) -> tuple[Counts, Counts]:
    async with rt.pool.acquire() as conn:
        ledger = await ledger_counts(conn, contest.id)
    live = await read_tallies(rt.redis, contest.id, contest.voting_countries)
    return live, ledger


async def compare(rt: Runtime, contest: Contest, settle_s: float = SETTLE_S) -> Comparison:
    """Differences that persist across two reads `settle_s` apart (in-flight votes settle)."""
    live, ledger = await snapshot(rt, contest)
    first = set(differences(live, ledger))
    if first:
        await asyncio.sleep(settle_s)
        live, ledger = await snapshot(rt, contest)
    found = [d for d in differences(live, ledger) if not first or d in first]
    return Comparison(
        ok=not found,
        ledger_total=sum(n for row in ledger.values() for n in row.values()),
        live_total=sum(n for row in live.values() for n in row.values()),
        differences=[Difference(*d) for d in found],
    )


async def repair(rt: Runtime, contest: Contest, found: list[Difference]) -> int:
    """Increment tallies by the persistent differences; returns the votes moved."""
    deltas = Counter({(d.country, d.entry): d.ledger - d.live for d in found})
    await add_to_tallies(rt.redis, contest.id, deltas)
    moved = sum(abs(n) for n in deltas.values())
    if moved:
        metrics.TALLY_REPAIRS.inc(len(found))
        log.warning("repaired %d tally cells (%d votes) of %s", len(found), moved, contest.id)
    return moved


async def reconcile(rt: Runtime, contest: Contest) -> Comparison:
    comparison = await compare(rt, contest)
    drift = sum(abs(d.ledger - d.live) for d in comparison.differences)
    metrics.TALLY_DRIFT.labels(contest.id).set(drift)
    if comparison.differences:
        await repair(rt, contest, comparison.differences)
    return comparison


class Reconciler:
    """Background task: one process at a time (Redis lease) reconciles every contest."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._task: asyncio.Task[None] | None = None
        self._me = f"{os.getpid()}-{uuid.uuid4().hex}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        interval = self._rt.settings.reconcile_interval_s
        while True:
            await asyncio.sleep(interval)
            try:
                if await self._lead(interval):
                    await self.reconcile_all()
            except Exception as exc:  # a store may be down; try again next round
                log.warning("reconciliation skipped: %s", exc)

    async def _lead(self, interval: float) -> bool:
        lease_ms = int(interval * 2000)
        me = self._me
        acquired = await self._rt.redis.set(LEADER_KEY, me, nx=True, px=lease_ms)
        if acquired:
            return True
        holder: Any = await self._rt.redis.get(LEADER_KEY)
        if holder is not None and holder.decode() == me:
            await self._rt.redis.pexpire(LEADER_KEY, lease_ms)
            return True
        return False

    async def reconcile_all(self) -> None:
        async with self._rt.pool.acquire() as conn:
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM contests")]
        for contest_id in ids:
            await reconcile(self._rt, await self._rt.contests.get(contest_id))
