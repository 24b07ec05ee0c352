"""Keep live tallies equal to the ledger: compare them at one ledger batch number, and
repair what differs there.

Under load the ledger and the tallies never stand still together, so they are compared
at a cut (`tally_cut.py`): the ledger up to batch C against the tallies of the batches
up to C that Redis holds. A difference there is drift, never an update in flight.
`verify` and `recount` cut at the ledger's newest batch when asked and give the updates
of batches up to it `SETTLE_S` to land (answering as soon as nothing differs). The
reconciler cuts at the newest batch it saw one round earlier, so those updates had a
round to land. A repair moves each cell by its difference at the cut and marks batches
1..C held; Redis refuses it if a batch up to C was applied since the read (it compares
again), so an update that lands late and the repair of its batch never both count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import msgspec

from service.contests.cache import ContestCache
from service.contests.models import Contest
from service.contests.repository import ContestStore
from service.core import metrics
from service.core.background import stop_tasks
from service.intake.ledger import VoteLedger
from service.intake.tallies import TALLY_UPDATE_TIMEOUT_S, LiveTallies
from service.intake.tally_cut import LedgerCut, Scope, Verdict, differences, judge
from service.stores.lease import RedisLease

log = logging.getLogger("silkvote.reconcile")
SETTLE_S = TALLY_UPDATE_TIMEOUT_S + 0.5  # past this, an update of a batch is lost
POLL_S = 0.1
REPAIR_ATTEMPTS = 5
LEADER_KEY = "sv:reconciler:leader"
FULL_COUNT_S = 60.0  # the reconciler counts a contest's whole ledger at least this often


class Difference(msgspec.Struct):
    country: str
    entry: str
    live: int
    ledger: int


class Comparison(msgspec.Struct):
    """Live tallies against the ledger, both at ledger batch `batch`."""

    ok: bool
    ledger_total: int
    live_total: int
    differences: list[Difference]
    batch: int = 0


@dataclass
class Judgement:
    """Every scope of one contest judged at one cut."""

    ledger: LedgerCut
    verdicts: list[Verdict]

    @property
    def ok(self) -> bool:
        return not any(v.ahead or v.deltas for v in self.verdicts)

    @property
    def drift(self) -> int:
        """Votes by which the tallies at the cut differ from the ledger at the cut."""
        return sum(abs(n) for v in self.verdicts for n in v.deltas.values())

    def comparison(self) -> Comparison:
        found = sorted(d for v in self.verdicts for d in differences(v.live, v.want))
        return Comparison(
            ok=self.ok,
            ledger_total=self.ledger.total(),
            live_total=sum(n for v in self.verdicts for row in v.live.values()
                           for n in row.values()),
            differences=[Difference(*d) for d in found],
            batch=self.ledger.cut,
        )


class TallyCheck:
    """Live tallies against the ledger for one contest at a time: what `verify`,
    `recount` and the reconciler share."""

    def __init__(self, ledger: VoteLedger, tallies: LiveTallies,
                 full_count_s: float = FULL_COUNT_S) -> None:
        self._ledger = ledger
        self._tallies = tallies
        self._full_count_s = full_count_s

    async def head(self, contest_id: str) -> int:
        return await self._ledger.head(contest_id)

    async def compare(self, contest: Contest, settle_s: float = SETTLE_S) -> Comparison:
        """The tallies against the ledger at its newest batch now (`verify`)."""
        cut = await self._ledger.head(contest.id)
        return (await self.judge(contest, cut, settle_s)).comparison()

    async def judge(self, contest: Contest, cut: int, settle_s: float = 0.0) -> Judgement:
        """Judge at `cut`; while anything differs, again until `settle_s` has passed
        (updates of batches up to the cut may still be landing)."""
        ledger = await self._ledger.at(contest.id, cut)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle_s
        while True:
            judgement = await self._judge(contest, ledger)
            if judgement.ok or loop.time() >= deadline:
                return judgement
            await asyncio.sleep(POLL_S)

    async def _judge(self, contest: Contest, ledger: LedgerCut) -> Judgement:
        countries = sorted(set(contest.voting_countries) | set(ledger.counts))
        scopes = await self._tallies.scopes(contest.id, countries)
        # after the Redis read, so every batch Redis was seen holding is committed
        held = await self._ledger.held(contest.id, scopes, ledger.cut)
        return Judgement(ledger, [judge(scope, ledger, h) for scope, h in zip(scopes, held,
                                                                               strict=True)])

    async def repair(self, contest: Contest, judgement: Judgement) -> int:
        """Bring the tallies at the cut to the ledger at the cut; returns votes moved."""
        moved = cells = 0
        for _ in range(REPAIR_ATTEMPTS):
            stale = False
            for verdict in judgement.verdicts:
                done = await self._repair_scope(contest, judgement.ledger.cut, verdict)
                if done is None:
                    stale = True
                else:
                    moved, cells = moved + done[0], cells + done[1]
            if not stale:
                break
            judgement = await self._judge(contest, judgement.ledger)
        else:
            log.warning("tallies of %s kept moving below batch %d; repair left to the "
                        "next round", contest.id, judgement.ledger.cut)
        if moved:
            await self._tallies.announce(contest.id)
            metrics.TALLY_REPAIRS.inc(cells)
            log.warning("repaired %d tally cells (%d votes) of %s at ledger batch %d",
                        cells, moved, contest.id, judgement.ledger.cut)
        return moved

    async def _repair_scope(self, contest: Contest, cut: int, verdict: Verdict
                            ) -> tuple[int, int] | None:
        """(votes, cells) moved in one scope; None if Redis refused (compare again)."""
        deltas = verdict.deltas
        if verdict.ahead:
            log.warning("tallies of %s hold batches the ledger does not have (ledger "
                        "restored?): rebuilt at batch %d", contest.id, cut)
            await self._tallies.reset(contest.id, verdict.scope, cut, verdict.want)
            return sum(abs(n) for n in deltas.values()), len(deltas)
        if not deltas and verdict.scope.top >= cut:
            return 0, 0
        if await self._tallies.repair(contest.id, verdict.scope, cut, deltas):
            return sum(abs(n) for n in deltas.values()), len(deltas)
        return None

    async def recount(self, contest: Contest) -> Comparison:
        """Compare as `verify` does, then repair; returns what was found."""
        judgement = await self.judge(contest, await self._ledger.head(contest.id), SETTLE_S)
        if not judgement.ok:
            await self.repair(contest, judgement)
        return judgement.comparison()

    async def reconcile(self, contest: Contest, cut: int, head: int,
                        seen: Seen | None = None) -> Seen:
        """One round of the reconciler at `cut` (the ledger's `head` now at or above it):
        measure the drift and repair it. Returns what the next round starts from
        (`seen`: what this one started from).

        The ledger up to a batch number never changes (a void is a batch of its own), so
        a round does not count the contest's votes again: it adds the batches committed
        since the last round's cut to that round's count (a full count at least every
        `FULL_COUNT_S`, and whenever a batch is missing). The batches Redis holds above
        the cut are summed by PostgreSQL as well (`VoteLedger.held`): the event loop that
        serves votes decodes a row per cell, not a row per batch. And when the last round found
        the tallies exact at this very cut, the ledger's head is still there and Redis
        holds exactly what it held then, this round's judgement would be the same: only
        Redis is read. Counting every vote of every contest each round held a PostgreSQL
        core from the live show's commits."""
        if contest.window == "open":
            metrics.WINDOW_OPEN_SEEN.labels(contest.id).set_to_current_time()
        if seen is not None and seen.exact is not None and seen.ledger.cut == cut == head \
                and await self._redis_still(contest, seen.exact):
            return seen
        ledger, counted_at = await self._ledger_at(contest, cut, seen)
        judgement = await self._judge(contest, ledger)
        metrics.TALLY_DRIFT.labels(contest.id).set(judgement.drift)
        if not judgement.ok or any(v.scope.top < cut for v in judgement.verdicts):
            await self.repair(contest, judgement)
            return Seen(ledger, counted_at, None)
        return Seen(ledger, counted_at, [v.scope for v in judgement.verdicts])

    async def _ledger_at(self, contest: Contest, cut: int, seen: Seen | None
                         ) -> tuple[LedgerCut, float]:
        """The ledger at `cut`, and when it was last counted in full."""
        now = time.monotonic()
        if seen is not None and seen.ledger.cut <= cut \
                and now - seen.counted_at < self._full_count_s:
            ledger = await self._ledger.advance(contest.id, seen.ledger, cut)
            if ledger is not None:
                return ledger, seen.counted_at
        return await self._ledger.at(contest.id, cut), now

    async def _redis_still(self, contest: Contest, scopes: list[Scope]) -> bool:
        """Whether Redis holds for the contest exactly what `scopes` read."""
        countries = sorted({c for scope in scopes for c in scope.countries})
        return await self._tallies.scopes(contest.id, countries) == scopes


@dataclass(frozen=True)
class Seen:
    """What a reconciler round learned of a contest: the ledger at its cut, when that
    ledger was last counted in full, and Redis as the round read it if the tallies were
    exact (None after a repair: the next round reads the ledger's batches again)."""

    ledger: LedgerCut
    counted_at: float
    exact: list[Scope] | None


class Reconciler:
    """Background task: one process at a time (Redis lease) reconciles every contest, each
    at the newest ledger batch it saw the round before."""

    def __init__(self, check: TallyCheck, store: ContestStore, contests: ContestCache,
                 lease: RedisLease, interval_s: float) -> None:
        self._check = check
        self._store = store
        self._contests = contests
        self._lease = lease
        self._interval_s = interval_s
        self._cuts: dict[str, int] = {}
        self._seen: dict[str, Seen] = {}  # what the last round learned of each contest
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_tasks([self._task])

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
            contest = await self._contests.get(contest_id)
            head = await self._check.head(contest_id)
            cut, self._cuts[contest_id] = self._cuts.get(contest_id), head
            if cut is not None and cut <= head:  # else: first sight, or a restored ledger
                self._seen[contest_id] = await self._check.reconcile(
                    contest, cut, head, self._seen.get(contest_id))
