"""Cross-process notices over Redis pub/sub: window, jury lock and reveal changes.

Every process listens so its caches and websocket clients follow a change made on
another process. A lost notice costs only staleness (caches expire in a second), never
correctness: decisions are made against PostgreSQL.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from service.stores.redis_keys import CONTEST_EVENTS_CHANNEL

if TYPE_CHECKING:
    from service.runtime import Runtime

log = logging.getLogger("silkvote.events")


class ContestEvent(msgspec.Struct):
    contest: str
    kind: str  # "window", "jury_lock", "reveal", "contest"
    value: str | int | None = None


async def publish_contest_event(rt: Runtime, contest: str, kind: str,
                                value: str | int | None = None) -> None:
    rt.contests.forget(contest)
    try:
        await rt.redis.publish(CONTEST_EVENTS_CHANNEL,
                               msgspec.json.encode(ContestEvent(contest, kind, value)))
    except Exception as exc:  # the change is durable already; listeners catch up by TTL
        log.warning("could not publish %s event for %s: %s", kind, contest, exc)
