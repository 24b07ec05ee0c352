"""Keep live tallies equal to the ledger: compare, and repair drift that persists.

A vote is committed before its tally is incremented, so for a few milliseconds the two
legitimately differ. A difference is therefore acted on only when two reads, a moment
apart, show the same difference; the repair is an increment by the difference (never
an overwrite), which is safe while other processes keep incrementing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import msgspec

from service.contests.cache import ContestCache
from service.contests.models import Contest
from service.contests.repository import ContestStore
from service.core import metrics
from service.intake.ledger import VoteLedger
from service.intake.tallies import Counts, LiveTallies, differences
from service.stores.lease import RedisLease

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


class TallyCheck:
    """Live tallies against the ledger for one contest at a time: what `verify`,
    `recount` and the reconciler share."""

    def __init__(self, ledger: VoteLedger, tallies: LiveTallies) -> None:
        self._ledger = ledger
        self._tallies = tallies

    async def snapshot(self, contest: Contest) -> tuple[Counts, Counts]:
        ledger = await self._ledger.counts(contest.id)
        live = await self._tallies.read(contest.id, contest.voting_countries)
        return live, ledger

    async def compare(self, contest: Contest, settle_s: float = SETTLE_S) -> Comparison:
        """Differences that persist across two reads `settle_s` apart (in-flight votes
        settle)."""
        live, ledger = await self.snapshot(contest)
        first = set(differences(live, ledger))
        if first:
            await asyncio.sleep(settle_s)
            live, ledger = await self.snapshot(contest)
        found = [d for d in differences(live, ledger) if not first or d in first]
        return Comparison(
            ok=not found,
            ledger_total=sum(n for row in ledger.values() for n in row.values()),
            live_total=sum(n for row in live.values() for n in row.values()),
            differences=[Difference(*d) for d in found],
        )

    async def repair(self, contest: Contest, found: list[Difference]) -> int:
        """Increment tallies by the persistent differences; returns the votes moved."""
        deltas = Counter({(d.country, d.entry): d.ledger - d.live for d in found})
        await self._tallies.add(contest.id, deltas)
        moved = sum(abs(n) for n in deltas.values())
        if moved:
            metrics.TALLY_REPAIRS.inc(len(found))
            log.warning("repaired %d tally cells (%d votes) of %s", len(found), moved,
                        contest.id)
        return moved

    async def reconcile(self, contest: Contest) -> Comparison:
        if contest.window == "open":
            metrics.WINDOW_OPEN_SEEN.labels(contest.id).set_to_current_time()
        comparison = await self.compare(contest)
        drift = sum(abs(d.ledger - d.live) for d in comparison.differences)
        metrics.TALLY_DRIFT.labels(contest.id).set(drift)
        if comparison.differences:
            await self.repair(contest, comparison.differences)
        return comparison


class Reconciler:
    """Background task: one process at a time (Redis lease) reconciles every contest."""

    def __init__(self, check: TallyCheck, store: ContestStore, contests: ContestCache,
                 lease: RedisLease, interval_s: float) -> None:
        self._check = check
        self._store = store
        self._contests = contests
        self._lease = lease
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                if await self._lease.hold(int(self._interval_s * 2000)):
                    await self.reconcile_all()
            except Exception as exc:  # a store may be down; try again next round
                log.warning("reconciliation skipped: %s", exc)

    async def reconcile_all(self) -> None:
        for contest_id in await self._store.ids():
            await self._check.reconcile(await self._contests.get(contest_id))
