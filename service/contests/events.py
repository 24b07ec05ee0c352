"""Cross-process notices over Redis pub/sub: window, jury lock and reveal changes.

Every process listens so its caches and websocket clients follow a change made on
another process. A lost notice costs only staleness (caches expire in a second), never
correctness: decisions are made against PostgreSQL.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from service.contests.cache import ContestCache
from service.stores.redis_keys import CONTEST_EVENTS_CHANNEL

log = logging.getLogger("silkvote.events")


class ContestEvent(msgspec.Struct):
    contest: str
    kind: str  # "window", "jury_lock", "reveal", "contest"
    value: str | int | None = None


class ContestEvents:
    """Announces a durable change of a contest's state to every process (and this one)."""

    def __init__(self, redis: Any, cache: ContestCache) -> None:
        self._redis = redis
        self._cache = cache

    async def publish(self, contest: str, kind: str, value: str | int | None = None) -> None:
        self._cache.forget(contest)
        try:
            await self._redis.publish(CONTEST_EVENTS_CHANNEL,
                                      msgspec.json.encode(ContestEvent(contest, kind, value)))
        except Exception as exc:  # the change is durable already; listeners catch up by TTL
            log.warning("could not publish %s event for %s: %s", kind, contest, exc)
