"""A Redis lease: at most one process at a time does a periodic job (the reconciler).

The holder renews the lease each round; if it dies, the lease expires after two rounds
and another process takes over. Losing Redis loses only the lease, never data.
"""

from __future__ import annotations

import os
import uuid
from typing import Any


class RedisLease:
    def __init__(self, redis: Any, key: str) -> None:
        self._redis = redis
        self._key = key
        self._me = f"{os.getpid()}-{uuid.uuid4().hex}"

    async def hold(self, ttl_ms: int) -> bool:
        """Take or renew the lease for `ttl_ms`; False while another process holds it."""
        if await self._redis.set(self._key, self._me, nx=True, px=ttl_ms):
            return True
        holder: Any = await self._redis.get(self._key)
        if holder is not None and holder.decode() == self._me:
            await self._redis.pexpire(self._key, ttl_ms)
            return True
        return False
