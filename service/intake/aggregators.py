"""Aggregator keys: which partner a batch comes from, and which contest it may vote in.

A key is looked up by its hash and remembered for `CACHE_S`, so a partner sending
batches back to back costs the ledger one query a half-minute, not one per batch.
"""

from __future__ import annotations

import time

import asyncpg

CACHE_S = 30.0


class AggregatorKeys:
    def __init__(self, pool: asyncpg.Pool, cache_s: float = CACHE_S) -> None:
        self._pool = pool
        self._cache_s = cache_s
        self._known: dict[bytes, tuple[float, str, str]] = {}

    async def identify(self, key_hash: bytes) -> tuple[str, str] | None:
        """(aggregator id, its contest) for a live key, None for an unknown or revoked one."""
        cached = self._known.get(key_hash)
        if cached is None or time.monotonic() - cached[0] > self._cache_s:
            row = await self._pool.fetchrow(
                "SELECT id, contest_id FROM aggregator_keys "
                "WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
            if row is None:
                return None
            cached = (time.monotonic(), row["id"], row["contest_id"])
            self._known[key_hash] = cached
        return cached[1], cached[2]
