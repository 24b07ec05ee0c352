"""Rate limits per client IP and per voter, counted in Redis so all processes share them.

A fixed one-second (or longer) window per key: cheap (one pipelined round trip) and
good enough to stop scripted stuffing; caps, not rate limits, decide what counts.
When Redis is unreachable the limiter lets requests through: the ledger still
enforces caps, and a show must not stop because a derived store is down.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from service.errors import ApiError

log = logging.getLogger("silkvote.ratelimit")


def rate_key(bucket: str, identity: str, window_s: int) -> str:
    return f"sv:rl:{{{bucket}:{identity}}}:{int(time.time()) // window_s}"


async def hits_in_window(redis: Any, key: str, window_s: int) -> int:
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, window_s + 1)
    count, _ = await pipe.execute()
    return int(count)


async def enforce(redis: Any, bucket: str, identity: str, limit: int, window_s: int = 1) -> None:
    """Refuse with 429 `rate_limited` once `identity` exceeds `limit` per window."""
    if limit <= 0:
        return
    try:
        count = await hits_in_window(redis, rate_key(bucket, identity, window_s), window_s)
    except Exception as exc:  # fail open: see the module docstring
        log.warning("rate limiter unavailable: %s", exc)
        return
    if count > limit:
        raise ApiError(429, "rate_limited",
                       f"too many requests; at most {limit} per {window_s} s — slow down")
