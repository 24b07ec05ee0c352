"""Contest definitions for the hot path, re-read in the background about once a second.

Window state is re-checked inside the ledger transaction, so a stale cache can never
let a vote into a closed window; it only saves a round trip per request. An expired
entry is therefore still served while one background read refreshes it: a stalled
PostgreSQL then costs the votes nothing here, and the committer's deadline answers
them 503 on time, instead of every request queueing for its own read of the same row.
A change made through the API (`forget`) is never answered from before the change: the
next read waits for a new query, and a read that started earlier cannot overwrite it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from service.contests.models import Contest
from service.contests.repository import ContestStore
from service.core.errors import not_found

log = logging.getLogger("silkvote.contests")


class ContestCache:
    def __init__(self, store: ContestStore, ttl_s: float = 1.0,
                 timeout_s: float = 5.0) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._items: dict[str, tuple[float, Contest]] = {}
        self._reads: dict[str, asyncio.Task[Contest | None]] = {}
        self._generation: dict[str, int] = {}

    def cached(self, contest_id: str) -> Contest | None:
        """The contest as cached (an old entry is refreshed in the background), or None
        when it must be read first. Not a coroutine: the vote path asks on every vote,
        and almost always the answer is here."""
        cached = self._items.get(contest_id)
        if cached is None:
            return None
        if time.monotonic() - cached[0] >= self._ttl_s and contest_id not in self._reads:
            self._read(contest_id)
        return cached[1]

    async def get(self, contest_id: str) -> Contest:
        """The contest, or ApiError 404 (503 when a first read exceeds `timeout_s`)."""
        contest = self.cached(contest_id)
        if contest is not None:
            return contest
        read = self._reads.get(contest_id) or self._read(contest_id)
        contest = await asyncio.wait_for(asyncio.shield(read), self._timeout_s)
        if contest is None:
            raise not_found(f"contest {contest_id!r}")
        return contest

    async def fresh(self, contest_id: str) -> Contest:
        """The contest as stored right now (after a change, or for a definition read)."""
        self.forget(contest_id)
        return await self.get(contest_id)

    def forget(self, contest_id: str) -> None:
        self._items.pop(contest_id, None)
        self._reads.pop(contest_id, None)
        self._generation[contest_id] = self._generation.get(contest_id, 0) + 1

    def _read(self, contest_id: str) -> asyncio.Task[Contest | None]:
        """One read of the contest row shared by every request that needs it now."""
        task = asyncio.get_running_loop().create_task(
            self._load(contest_id, self._generation.get(contest_id, 0)))
        task.add_done_callback(_log_failure)
        self._reads[contest_id] = task
        return task

    async def _load(self, contest_id: str, generation: int) -> Contest | None:
        try:
            contest = await asyncio.wait_for(self._store.get(contest_id), self._timeout_s)
        finally:
            if self._generation.get(contest_id, 0) == generation:
                self._reads.pop(contest_id, None)
        if self._generation.get(contest_id, 0) == generation:  # no change since it began
            if contest is None:
                self._items.pop(contest_id, None)
            else:
                self._items[contest_id] = (time.monotonic(), contest)
        return contest


def _log_failure(task: asyncio.Task[Contest | None]) -> None:
    """Retrieve a failed read's error (waiting requests got 503; a background refresh
    leaves the cached copy in place)."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("contest read failed: %s", task.exception())
