"""The shared handles of one service process (pools, clients, caches).

Built by the app's lifespan and handed to route handlers through dependency injection
as `rt: Runtime`; feature modules hang their own long-lived parts here (the intake
batcher, the leaderboard hub) so there is one place to start and stop them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from litestar.connection import ASGIConnection
from litestar.datastructures import State

from service.contests.models import Contest
from service.contests.repository import fetch_contest
from service.core.config import Settings
from service.core.errors import not_found
from service.security.auth import require_admin
from service.security.ratelimit import RateLimiter
from service.security.tokens import TokenSigner


class ContestCache:
    """Contest definitions for the hot path, re-read at most once a second.

    Window state is re-checked inside the ledger transaction, so a stale cache can
    never let a vote into a closed window; it only saves a round trip per request.
    """

    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 1.0) -> None:
        self._pool = pool
        self._ttl_s = ttl_s
        self._items: dict[str, tuple[float, Contest]] = {}

    async def get(self, contest_id: str) -> Contest:
        cached = self._items.get(contest_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        async with self._pool.acquire() as conn:
            contest = await fetch_contest(conn, contest_id)
        if contest is None:
            self._items.pop(contest_id, None)
            raise not_found(f"contest {contest_id!r}")
        self._items[contest_id] = (now, contest)
        return contest

    def forget(self, contest_id: str) -> None:
        self._items.pop(contest_id, None)


@dataclass
class Runtime:
    settings: Settings
    pool: asyncpg.Pool
    redis: Any
    signer: TokenSigner
    contests: ContestCache
    limiter: RateLimiter
    extras: dict[str, Any] = field(default_factory=dict)

    async def admin_contest(self, connection: ASGIConnection[Any, Any, Any, Any],
                            contest_id: str) -> Contest:
        """The contest, for a caller that must hold the admin token (401/404 otherwise)."""
        require_admin(connection, self.settings.admin_token)
        return await self.contests.get(contest_id)


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime
