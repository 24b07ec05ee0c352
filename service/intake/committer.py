"""Group commit: concurrent single votes share one ledger transaction.

Each request hands its vote to the `GroupCommitter` and awaits its own decision. The
committer gathers votes for at most `COMMIT_WINDOW_MS` (or until `COMMIT_MAX_BATCH`),
writes them with one `record_votes` call, and answers every waiting request only after
that transaction committed. While a batch is being written the next one keeps
gathering, so batches grow by themselves when the database is the bottleneck. Without a
core to spare, one batch is written at a time, so the write in flight is the window.

When the process has a core to spare (`SpareCoreMeter`), a batch is also cut as soon
as it holds as many votes as are being written (at least `MIN_CUT`). Without that,
clients that get their answers together come back together: the whole population lands
in one batch, and the process sits idle while the ledger writes it (a sixth of the time
with 64 busy connections on one worker). Cut in halves, one half is written while the
process reads and checks the other. Where workers already share every core, the idle
time is another worker's, and bigger batches save CPU, so the cut stays off.

Every vote is answered within `timeout_s` of its arrival, even when PostgreSQL stalls:
a vote still waiting for a write slot at its deadline is refused (503) and leaves the
queue, and a batch still being written at its first vote's deadline answers all of its
requests 503 without waiting for asyncpg to give up on the server. A 503 never hides
a lost vote: if the write commits after all, the client's retry with the same key
finds it (`duplicate`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

import asyncpg

from service.core import metrics
from service.core.errors import unavailable
from service.intake.ledger import Decision, PendingVote, record_votes
from service.intake.spare_core import SpareCoreMeter
from service.intake.tallies import LiveTallies

log = logging.getLogger("silkvote.intake")

MIN_CUT = 8  # smallest batch cut before the window ends (4 to 12 measured alike)
TALLY_HOLD_S = 0.1  # longest a write slot or a batch request waits for its tally update
Waiter = tuple[PendingVote, "asyncio.Future[Decision]", float]  # vote, answer, deadline


class GroupCommitter:
    """Batches votes into ledger transactions; one per service process."""

    def __init__(self, pool: asyncpg.Pool, tallies: LiveTallies, *, window_ms: float,
                 max_batch: int, timeout_s: float = 5.0, max_in_flight: int = 3,
                 meter: SpareCoreMeter | None = None) -> None:
        self._pool = pool
        self._tallies = tallies
        self._window_s = window_ms / 1000
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._timeout_s = timeout_s
        self._pending: list[Waiter] = []
        self._timer: asyncio.TimerHandle | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._in_flight = 0
        self._in_flight_votes = 0
        self._meter = meter or SpareCoreMeter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lagging: asyncio.Task[None] | None = None  # a tally update past its hold
        self._backlog: list[tuple[PendingVote, Decision]] = []  # accepted votes waiting for it

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        """Finish the batches already taken; the server drains requests before this."""
        if self._pending:
            self._flush()
        while self._tasks:  # a batch's write may leave its tally update running
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def submit(self, vote: PendingVote) -> asyncio.Future[Decision]:
        """The ledger's decision on `vote`, once it is committed (or ApiError 503).

        The future itself, not a coroutine awaiting it: a vote's request awaits it
        directly, one frame fewer to suspend and resume on every vote."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decision] = loop.create_future()
        self._pending.append((vote, future, loop.time() + self._timeout_s))
        if len(self._pending) >= self._cut_size() and self._in_flight < self._slots():
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._window_s, self._flush)
        return future

    def _slots(self) -> int:
        """How many batches may be written at once. Without a spare core, one: the write
        in flight is the window, and what arrives meanwhile becomes the next batch. Slices
        cut by the commit window alone stayed at a few votes each with two workers, and
        every transaction's fixed cost (0.6-1 ms of PostgreSQL CPU) went to a handful."""
        return self._max_in_flight if self._meter.cut_early else 1

    def _cut_size(self) -> int:
        """How many votes make a batch worth writing before the window ends."""
        if not self._meter.cut_early:
            return self._max_batch
        return min(self._max_batch, max(MIN_CUT, self._in_flight_votes))

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        if self._in_flight >= self._slots():  # a finishing batch calls us again
            self._expire_at_deadline()
            return
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        self._in_flight += 1
        self._in_flight_votes += len(batch)
        task = asyncio.get_running_loop().create_task(self._write(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _next_batch(self) -> None:
        """After a write: the votes that gathered meanwhile. Without a spare core, a few
        (under `MIN_CUT`) wait one commit window for the votes of the requests just
        answered, which arrive a round trip later; written at once they made every other
        transaction of two busy workers one of one or two votes."""
        if not self._pending:
            return
        if self._meter.cut_early or len(self._pending) >= MIN_CUT:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._window_s, self._flush)

    def _expire_at_deadline(self) -> None:
        """While every write slot is busy, refuse queued votes as their deadlines pass."""
        if self._expiry is None and self._pending:
            self._expiry = asyncio.get_running_loop().call_at(self._pending[0][2],
                                                              self._expire)

    def _expire(self) -> None:
        self._expiry = None
        now = asyncio.get_running_loop().time()
        due = 0
        while due < len(self._pending) and self._pending[due][2] <= now:
            due += 1  # arrivals are queued in order, so their deadlines are too
        if due:
            expired = self._pending[:due]
            del self._pending[:due]
            metrics.LEDGER_FAILURES.inc()
            log.warning("%d votes waited %.1f s for a ledger write slot; answered 503",
                        due, self._timeout_s)
            _refuse(expired)
        if self._in_flight >= self._slots():
            self._expire_at_deadline()

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
                await self.publish(decided)
        finally:
            self._meter.update()
            self._in_flight -= 1
            self._next_batch()
        if early:
            await self.publish(decided)

    async def publish(self, decided: list[tuple[PendingVote, Decision]]) -> None:
        """Move the live tallies by the accepted votes of `decided`, waiting at most
        `TALLY_HOLD_S` for Redis.

        Tallies are derived (the reconciler repairs them from the ledger), so a slow or
        lost Redis must not hold a ledger write slot, nor an aggregator's batch request
        (which calls this too): past the hold, the update goes on in the background,
        bounded by its own timeout, and later votes wait for it in one backlog that
        becomes the next single update, instead of piling up a round trip per batch. A
        Redis that answers does so well within the hold, so the slot still waits for
        the update while batches are not cut early."""
        if not decided:
            return
        if self._lagging is not None:
            self._backlog += decided
            return
        update = self._start_update(decided)
        done, _ = await asyncio.wait({update}, timeout=TALLY_HOLD_S)
        if not done and self._lagging is None:
            self._lag_behind(update)

    def _start_update(self, decided: list[tuple[PendingVote, Decision]]) -> asyncio.Task[None]:
        update = asyncio.ensure_future(self._tallies.publish_accepted(decided))
        self._tasks.add(update)
        update.add_done_callback(self._tasks.discard)
        return update

    def _lag_behind(self, update: asyncio.Task[None]) -> None:
        self._lagging = update
        update.add_done_callback(self._caught_up)

    def _caught_up(self, _: asyncio.Task[None]) -> None:
        """The late update ended (done or failed): send what gathered meanwhile."""
        self._lagging = None
        backlog, self._backlog = self._backlog, []
        if backlog:
            self._lag_behind(self._start_update(backlog))

    async def _commit(self, batch: list[Waiter]) -> list[tuple[PendingVote, Decision]]:
        """Write `batch` and answer its requests; each vote with its decision, or
        nothing when the write failed (the requests then got 503)."""
        started = time.perf_counter()
        metrics.COMMIT_BATCH_SIZE.observe(len(batch))
        by_contest: dict[str, list[Waiter]] = defaultdict(list)
        for waiter in batch:
            by_contest[waiter[0].contest].append(waiter)
        # The batch's requests are answered 503 at the first one's deadline even while
        # asyncpg still waits for a stalled server (its statement timeout surfaces only
        # once the server acknowledges the cancellation, which a stopped server never does).
        # Whichever comes first, the deadline or the error, says why the 503 went out,
        # once: after a deadline the write may still end either way.
        failed: list[str] = []

        def fail(reason: object) -> None:
            if not failed:
                failed.append(str(reason))
                log.warning("ledger write of %d votes failed: %s", len(batch), reason)
                metrics.LEDGER_FAILURES.inc()
            _refuse(batch)

        deadline = asyncio.get_running_loop().call_at(
            batch[0][2], fail, "no answer by the deadline (DB_TIMEOUT_S); answered 503, "
            "the write may still commit and a retry with the same key counts once")
        try:
            async with self._pool.acquire(timeout=self._timeout_s) as conn:
                decided = [
                    (waiters, await record_votes(conn, contest, [w[0] for w in waiters],
                                                 self._timeout_s))
                    for contest, waiters in by_contest.items()
                ]
        except Exception as exc:  # commit state unknown or refused: clients retry with keys
            fail(exc)
            return []
        finally:
            deadline.cancel()
        metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
        for waiters, decisions in decided:
            for (_, future, _), decision in zip(waiters, decisions, strict=True):
                if not future.done():
                    future.set_result(decision)
        return [(waiter[0], decision) for waiters, decisions in decided
                for waiter, decision in zip(waiters, decisions, strict=True)]


def _refuse(waiters: list[Waiter]) -> None:
    """Answer 503 to every request of `waiters` not answered yet."""
    for _, future, _ in waiters:
        if not future.done():
            future.set_exception(unavailable())
