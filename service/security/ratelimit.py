"""Rate limits per client IP and per voter: counted locally, shared through Redis.

Fixed windows (one second, or a minute for juror logins) per key. A key's hits are
counted in this process first; from its `SHARE_FROM`-th hit in a window the process
adds its hits to a Redis counter that every process shares, and from then on decides
on the total across processes. So a viewer who votes now and then costs no Redis
round trip at all (at peak a round trip per vote was a fifth of the vote path's CPU),
while a script hammering one token through many processes is counted everywhere; it
can get at most `SHARE_FROM - 1` extra hits per process and window before the shared
count catches it. Caps, not rate limits, decide what counts: the ledger enforces them.
When Redis is unreachable the limiter keeps counting locally: a show must not stop
because a derived store is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from service.core import metrics
from service.core.errors import ApiError
from service.stores.redis import is_cluster

log = logging.getLogger("silkvote.ratelimit")

SHARE_FROM = 2  # a key's hits go to Redis from its 2nd hit in a window in one process
SYNC_DELAY_S = 0.02  # busy keys are sent to Redis together, at most this often

# KEYS: counters; ARGV: hits to add and seconds to live, per key. Returns the new totals.
_ADD_HITS = """
local totals = {}
for i, key in ipairs(KEYS) do
  totals[i] = redis.call('INCRBY', key, ARGV[2 * i - 1])
  redis.call('EXPIRE', key, ARGV[2 * i])
end
return totals
"""


def rate_key(bucket: str, identity: str, window_s: int) -> str:
    return f"sv:rl:{{{bucket}:{identity}}}:{int(time.time()) // window_s}"


@dataclass
class Window:
    """Counts of one window length (1 s, 60 s…) for its current window only."""

    number: int
    local: Counter[str] = field(default_factory=Counter)  # hits taken by this process
    unsent: Counter[str] = field(default_factory=Counter)  # of those, not yet in Redis
    others: Counter[str] = field(default_factory=Counter)  # other processes' hits, last seen


class RateLimiter:
    """Fixed-window limits, local first and shared through Redis for busy keys."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._add_hits_script = redis.register_script(_ADD_HITS)
        self._windows: dict[int, Window] = {}
        self._sync_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def enforce(self, bucket: str, identity: str, limit: int, window_s: int = 1) -> None:
        """Refuse with 429 `rate_limited` once `identity` exceeds `limit` per window.

        Not a coroutine: the decision is local (Redis is synced in the background), and
        on the vote path each coroutine layer is a cost every vote pays twice."""
        if limit <= 0:
            return
        if self.hit(rate_key(bucket, identity, window_s), window_s) > limit:
            metrics.rate_limited(bucket).inc()
            # the seconds until this window ends and the count starts again
            retry_after = max(1, window_s - int(time.time()) % window_s)
            raise ApiError(429, "rate_limited",
                           f"too many requests; at most {limit} per {window_s} s — slow down",
                           retry_after_s=retry_after)

    def hit(self, key: str, window_s: int) -> int:
        """Count one hit; returns the hits known in this window, across processes."""
        window = self._window(window_s)
        window.local[key] += 1
        if window.local[key] >= SHARE_FROM:
            # the first shared hit carries the ones counted only here so far
            window.unsent[key] += 1 if window.local[key] > SHARE_FROM else SHARE_FROM
            self._schedule_sync()
        return window.local[key] + window.others[key]

    def _window(self, window_s: int) -> Window:
        number = int(time.time()) // window_s
        window = self._windows.get(window_s)
        if window is None or window.number != number:
            window = self._windows[window_s] = Window(number)
        return window

    def _schedule_sync(self) -> None:
        if not self._sync_scheduled:
            self._sync_scheduled = True
            asyncio.get_running_loop().call_later(SYNC_DELAY_S, self._start_sync)

    def _start_sync(self) -> None:
        self._sync_scheduled = False
        if self._tasks:  # one sync at a time, so a slow Redis collects no pile of them:
            return  # the running one schedules the next when it ends
        batch = [(window_s, w, dict(w.unsent)) for window_s, w in self._windows.items()
                 if w.unsent]
        for _, window, _ in batch:
            window.unsent.clear()
        if batch:
            task = asyncio.get_running_loop().create_task(self._sync(batch))
            self._tasks.add(task)
            task.add_done_callback(self._synced)

    def _synced(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if any(window.unsent for window in self._windows.values()):
            self._schedule_sync()

    async def _sync(self, batch: list[tuple[int, Window, dict[str, int]]]) -> None:
        """Add this process's hits to the shared counters; learn the other processes'."""
        order = [(window, key) for _, window, sent in batch for key in sent]
        counters = [(key, hits, window_s + 1) for window_s, _, sent in batch
                    for key, hits in sent.items()]
        try:
            totals = await asyncio.wait_for(self._add_hits(counters), timeout=1.0)
        except Exception as exc:  # keep limiting locally: see the module docstring
            log.warning("rate limiter cannot share counts through Redis: %s", exc)
            return
        for (window, key), total in zip(order, totals, strict=True):
            window.others[key] = max(0, int(total) - window.local[key] + window.unsent[key])

    async def _add_hits(self, counters: list[tuple[str, int, int]]) -> list[int]:
        """INCRBY and EXPIRE each (key, hits, ttl): one script call, or a pipeline on a
        cluster (the keys of different identities live on different slots)."""
        if is_cluster(self._redis):
            pipe = self._redis.pipeline(transaction=False)
            for key, hits, ttl in counters:
                pipe.incrby(key, hits)
                pipe.expire(key, ttl)
            return list((await pipe.execute())[::2])
        args = [value for _, hits, ttl in counters for value in (hits, ttl)]
        return list(await self._add_hits_script(keys=[key for key, _, _ in counters], args=args))
