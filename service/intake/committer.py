"""Group commit: concurrent single votes share one ledger transaction.

Each request hands its vote to the `GroupCommitter` and awaits its own decision. The
committer gathers votes for at most `COMMIT_WINDOW_MS` (or until `COMMIT_MAX_BATCH`),
writes them with one `record_votes` call, and answers every waiting request only after
that transaction committed. While a batch is being written the next one keeps
gathering, so batches grow by themselves when the database is the bottleneck.

When the process has a core to spare (`SpareCoreMeter`), a batch is also cut as soon
as it holds as many votes as are being written (at least `MIN_CUT`). Without that,
clients that get their answers together come back together: the whole population lands
in one batch, and the process sits idle while the ledger writes it (a sixth of the time
with 64 busy connections on one worker). Cut in halves, one half is written while the
process reads and checks the other. Where workers already share every core, the idle
time is another worker's, and bigger batches save CPU, so the cut stays off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import asyncpg

from service import metrics
from service.errors import unavailable
from service.intake.ledger import Decision, PendingVote, record_votes
from service.intake.tallies import add_to_tallies

log = logging.getLogger("silkvote.intake")

MIN_CUT = 8  # smallest batch cut before the window ends (4 to 12 measured alike)
Waiter = tuple[PendingVote, "asyncio.Future[Decision]"]


class SpareCoreMeter:
    """Whether cutting batches early would turn blocked time into work, judged from
    /proc/self/schedstat (time on a core, time runnable but waiting for one).

    Early cuts pay when the process blocks on the ledger while a core sits free for it:
    it then writes one part while it prepares the next. When its runnable time already
    waits for a core (as many busy workers as cores), the blocked time is someone
    else's work, and smaller transactions only cost CPU. Enters at `ENTER_BLOCKED` of
    the time blocked with under `MAX_WAITING` waiting for a core; leaves when waiting
    grows or blocking all but stops. Time the container's CPU limit throttled the process
    counts as waiting. Without schedstat (not Linux) it never cuts early.
    """

    INTERVAL_S = 0.05
    ENTER_BLOCKED = 0.05
    LEAVE_BLOCKED = 0.01
    MAX_WAITING = 0.10
    SCHEDSTAT = Path("/proc/self/schedstat")
    CGROUP_CPU_STAT = Path("/sys/fs/cgroup/cpu.stat")  # cgroup v2: CPU quota throttling

    def __init__(self) -> None:
        self.cut_early = False
        self._last = self._sample()

    def _sample(self) -> tuple[float, float, float] | None:
        """(now, seconds on a core, seconds kept from one): waiting in the run queue, or
        throttled by the container's CPU limit, which schedstat counts as blocked."""
        try:
            on_core_ns, waiting_ns = self.SCHEDSTAT.read_bytes().split()[:2]
        except (OSError, ValueError):
            return None
        return (time.monotonic(), int(on_core_ns) / 1e9,
                int(waiting_ns) / 1e9 + self._throttled_s())

    def _throttled_s(self) -> float:
        try:
            for line in self.CGROUP_CPU_STAT.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "throttled_usec":
                    return int(value) / 1e6
        except (OSError, ValueError):
            pass
        return 0.0

    def update(self) -> None:
        """Re-judge at most every INTERVAL_S (a file read costs a few microseconds)."""
        if self._last is None or time.monotonic() - self._last[0] < self.INTERVAL_S:
            return
        sample = self._sample()
        if sample is None:
            return
        wall = max(sample[0] - self._last[0], 1e-9)
        waiting = (sample[2] - self._last[2]) / wall
        blocked = 1.0 - (sample[1] - self._last[1]) / wall - waiting
        self._last = sample
        self.cut_early = self.judge(self.cut_early, blocked, waiting)

    @classmethod
    def judge(cls, cut_early: bool, blocked: float, waiting: float) -> bool:
        """The new decision, from the shares of wall time blocked and waiting for a core."""
        if waiting >= cls.MAX_WAITING or blocked < cls.LEAVE_BLOCKED:
            return False
        return cut_early or blocked >= cls.ENTER_BLOCKED


class GroupCommitter:
    """Batches votes into ledger transactions; one per service process."""

    def __init__(self, pool: asyncpg.Pool, redis: Any, *, window_ms: float, max_batch: int,
                 timeout_s: float = 5.0, max_in_flight: int = 3,
                 meter: SpareCoreMeter | None = None) -> None:
        self._pool = pool
        self._redis = redis
        self._window_s = window_ms / 1000
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._timeout_s = timeout_s
        self._pending: list[Waiter] = []
        self._timer: asyncio.TimerHandle | None = None
        self._in_flight = 0
        self._in_flight_votes = 0
        self._meter = meter or SpareCoreMeter()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        """Finish the batches already taken; the server drains requests before this."""
        if self._pending:
            self._flush()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def submit(self, vote: PendingVote) -> Decision:
        """The ledger's decision on `vote`, once it is committed (or ApiError 503)."""
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._pending.append((vote, future))
        if len(self._pending) >= self._cut_size() and self._in_flight < self._max_in_flight:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._window_s, self._flush)
        return await future

    def _cut_size(self) -> int:
        """How many votes make a batch worth writing before the window ends."""
        if not self._meter.cut_early:
            return self._max_batch
        return min(self._max_batch, max(MIN_CUT, self._in_flight_votes))

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending or self._in_flight >= self._max_in_flight:
            return  # a finishing batch calls us again
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        self._in_flight += 1
        self._in_flight_votes += len(batch)
        task = asyncio.get_running_loop().create_task(self._write(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, batch: list[Waiter]) -> None:
        """Commit `batch` and move the live tallies. While batches are cut early, the
        slot is freed before the Redis round trip, so the next part need not wait for
        it; otherwise the slot waits, and the votes gathering meanwhile join one batch."""
        early = self._meter.cut_early
        try:
            try:
                decided = await self._commit(batch)
            finally:
                self._in_flight_votes -= len(batch)  # answered: no longer being written
            if not early:
                await publish_accepted(self._redis, decided)
        finally:
            self._meter.update()
            self._in_flight -= 1
            if self._pending:
                self._flush()
        if early:
            await publish_accepted(self._redis, decided)

    async def _commit(self, batch: list[Waiter]) -> list[tuple[PendingVote, Decision]]:
        """Write `batch` and answer its requests; each vote with its decision, or
        nothing when the write failed (the requests then got 503)."""
        started = time.perf_counter()
        metrics.COMMIT_BATCH_SIZE.observe(len(batch))
        by_contest: dict[str, list[Waiter]] = defaultdict(list)
        for waiter in batch:
            by_contest[waiter[0].contest].append(waiter)
        try:
            async with self._pool.acquire(timeout=self._timeout_s) as conn:
                decided = [
                    (waiters, await record_votes(conn, contest, [w[0] for w in waiters],
                                                 self._timeout_s))
                    for contest, waiters in by_contest.items()
                ]
        except Exception as exc:  # commit state unknown or refused: clients retry with keys
            log.warning("ledger write of %d votes failed: %s", len(batch), exc)
            metrics.LEDGER_FAILURES.inc()
            for _, future in batch:
                if not future.done():
                    future.set_exception(unavailable())
            return []
        metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
        for waiters, decisions in decided:
            for (_, future), decision in zip(waiters, decisions, strict=True):
                if not future.done():
                    future.set_result(decision)
        return [(waiter[0], decision) for waiters, decisions in decided
                for waiter, decision in zip(waiters, decisions, strict=True)]


async def publish_accepted(redis: Any, decided: list[tuple[PendingVote, Decision]]) -> None:
    """Move live tallies by the accepted votes; a Redis failure only delays the tallies."""
    per_contest: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for vote, decision in decided:
        if decision.outcome == "accepted":
            per_contest[vote.contest][(vote.country, vote.entry)] += 1
    for contest, deltas in per_contest.items():
        try:
            await asyncio.wait_for(add_to_tallies(redis, contest, deltas), timeout=2.0)
        except Exception as exc:  # the reconciler repairs the drift from the ledger
            log.warning("tally update for %s failed (reconciler will repair): %s", contest, exc)
            metrics.TALLY_FAILURES.inc()
