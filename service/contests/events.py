"""Cross-process notices over Redis pub/sub: window, jury lock and reveal changes.

Every process listens so its caches and websocket clients follow a change made on
another process. A lost notice costs only staleness (caches expire in a second), never
correctness: decisions are made against PostgreSQL. So a slow or lost Redis must not
hold the producer's request either: it waits for the notice at most `HOLD_S`, and the
notice goes on in the background within `PUBLISH_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from service.contests.cache import ContestCache
from service.stores.redis_keys import CONTEST_EVENTS_CHANNEL

log = logging.getLogger("silkvote.events")
HOLD_S = 0.1  # a Redis that answers does so well within this
PUBLISH_TIMEOUT_S = 2.0


class ContestEvent(msgspec.Struct):
    contest: str
    kind: str  # "window", "jury_lock", "reveal", "visibility", "void", "contest",
    # "read_token_revoked" (value: the token's id)
    value: str | int | None = None


class ContestEvents:
    """Announces a durable change of a contest's state to every process (and this one)."""

    def __init__(self, redis: Any, cache: ContestCache) -> None:
        self._redis = redis
        self._cache = cache
        self._sending: set[asyncio.Task[None]] = set()

    async def publish(self, contest: str, kind: str, value: str | int | None = None) -> None:
        self._cache.forget(contest)
        notice = asyncio.ensure_future(self._send(contest, kind, value))
        self._sending.add(notice)
        notice.add_done_callback(self._sending.discard)
        await asyncio.wait({notice}, timeout=HOLD_S)

    async def _send(self, contest: str, kind: str, value: str | int | None) -> None:
        try:
            await asyncio.wait_for(
                self._redis.publish(CONTEST_EVENTS_CHANNEL,
                                    msgspec.json.encode(ContestEvent(contest, kind, value))),
                PUBLISH_TIMEOUT_S)
        except Exception as exc:  # the change is durable already; listeners catch up by TTL
            log.warning("could not publish %s event for %s: %s", kind, contest, exc)
