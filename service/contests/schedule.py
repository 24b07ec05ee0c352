"""The window scheduler: opens and closes contests at their `opens_at` / `closes_at`.

Every process runs one; a Redis lease (as for the reconciler) makes one of them the
leader, which sleeps until the next scheduled instant (re-reading the schedule at
least every `POLL_S`, so a new schedule is seen within that) and then flips the
window through `ScheduleStore.flip`, whose guarded UPDATE makes a second flipper
harmless. The flip is announced on the contest events channel, so every process drops
its cached contest at once. The other processes watch the schedule too and flip what
is still due `FOLLOWER_GRACE_S` after its instant, so a leader that stalls (a loaded
host, a paused process) or dies delays no flip by more than that; the guarded UPDATE
lets only the first flip count. A late close would still let no vote in, because
`record_votes` refuses anything written after `closes_at` by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from service.contests.schedule_store import ScheduleStore
from service.core.background import stop_tasks
from service.stores.lease import RedisLease

log = logging.getLogger("silkvote.schedule")
POLL_S = 0.25  # how soon a changed schedule, or a lost leader's lease, is noticed
LEASE_MS = 1000  # a dead leader is replaced within this (plus one poll)
EARLY_WAKE_S = 0.002  # asyncio timers fire a little late, never early: aim just before
FOLLOWER_GRACE_S = 0.04  # a process that does not lead flips what is this overdue

Announce = Callable[[str, str], Awaitable[None]]


class WindowScheduler:
    def __init__(self, store: ScheduleStore, lease: RedisLease, announce: Announce) -> None:
        self._store = store
        self._lease = lease
        self._announce = announce
        self._task: asyncio.Task[None] | None = None
        self._sealed: set[str] = set()  # warned once: a sealed window never reopens

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="window-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            await stop_tasks([self._task])

    async def _run(self) -> None:
        woke_for_due = False
        while True:
            delay = POLL_S
            try:
                leader = await self._leads()
                if leader or woke_for_due:
                    await self.flip_due()
                woke_for_due = False
                due_in = await self._store.next_due_in_s()
                wait = None if due_in is None else due_in + (0.0 if leader else FOLLOWER_GRACE_S)
                if wait is not None and wait <= POLL_S:
                    delay, woke_for_due = max(0.0, wait - EARLY_WAKE_S), True
            except Exception as exc:  # a store may be down: the ledger still refuses late votes
                log.warning("window schedule check skipped: %s", exc)
            await asyncio.sleep(delay)

    async def _leads(self) -> bool:
        """Whether this process flips this round. Without Redis every process does: the
        guarded UPDATE makes that harmless, and a lost Redis must not stop the show."""
        try:
            return await self._lease.hold(LEASE_MS)
        except Exception as exc:
            log.debug("scheduler lease unavailable, checking anyway: %s", exc)
            return True

    async def flip_due(self) -> None:
        """Flip every window whose scheduled instant has come."""
        for contest_id, state in await self._store.due():
            if contest_id in self._sealed:
                continue
            try:
                scheduled = await self._store.flip(contest_id, state)
            except asyncpg.ObjectNotInPrerequisiteStateError:
                log.warning("scheduled open of %s skipped: the contest is sealed", contest_id)
                self._sealed.add(contest_id)
                continue
            if scheduled is not None:
                log.info("window %s %s as scheduled for %s", contest_id, state,
                         scheduled.isoformat())
                await self._announce(contest_id, state)
