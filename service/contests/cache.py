"""Contest definitions for the hot path, re-read at most once a second.

Window state is re-checked inside the ledger transaction, so a stale cache can never
let a vote into a closed window; it only saves a round trip per request.
"""

from __future__ import annotations

import time

from service.contests.models import Contest
from service.contests.repository import ContestStore
from service.core.errors import not_found


class ContestCache:
    def __init__(self, store: ContestStore, ttl_s: float = 1.0) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._items: dict[str, tuple[float, Contest]] = {}

    async def get(self, contest_id: str) -> Contest:
        """The contest, or ApiError 404."""
        cached = self._items.get(contest_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        contest = await self._store.get(contest_id)
        if contest is None:
            self._items.pop(contest_id, None)
            raise not_found(f"contest {contest_id!r}")
        self._items[contest_id] = (now, contest)
        return contest

    async def fresh(self, contest_id: str) -> Contest:
        """The contest as stored right now (after a change, or for a definition read)."""
        self.forget(contest_id)
        return await self.get(contest_id)

    def forget(self, contest_id: str) -> None:
        self._items.pop(contest_id, None)
