"""Aggregator keys: which partner a batch comes from, and which contest it may vote in.

A key is looked up by its hash and remembered for `CACHE_S`, so a partner sending
batches back to back costs the ledger one query a half-minute, not one per batch.
Remembering is safe because the ledger has the last word: every batch names its key to
`record_votes`, which holds the key's row while it writes and refuses the batch once
the key is revoked (`key_revoked`). A revocation therefore takes effect at once in
every process, without a message to lose; a process that meets a revoked key that it
still remembers forgets it there and then.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import NamedTuple

import asyncpg

from service.audit.chain import record_event

CACHE_S = 30.0


class Aggregator(NamedTuple):
    """A live aggregator key: its id (the ledger's `source`), contest and partner name
    (the `channel` of its votes, unless a vote names its own)."""

    id: str
    contest: str
    name: str


class AggregatorKeys:
    def __init__(self, pool: asyncpg.Pool, cache_s: float = CACHE_S) -> None:
        self._pool = pool
        self._cache_s = cache_s
        self._known: dict[bytes, tuple[float, Aggregator]] = {}

    async def identify(self, key_hash: bytes) -> Aggregator | None:
        """The aggregator of a live key, None for an unknown or revoked one."""
        cached = self._known.get(key_hash)
        if cached is None or time.monotonic() - cached[0] > self._cache_s:
            row = await self._pool.fetchrow(
                "SELECT id, contest_id, name FROM aggregator_keys "
                "WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
            if row is None:
                self._known.pop(key_hash, None)
                return None
            cached = (time.monotonic(), Aggregator(row["id"], row["contest_id"], row["name"]))
            self._known[key_hash] = cached
        return cached[1]

    def forget(self, key_hash: bytes) -> None:
        """Drop a key the ledger refused as revoked."""
        self._known.pop(key_hash, None)

    async def revoke(self, contest: str, key_id: str) -> datetime | None:
        """Revoke a key of `contest` (again: a no-op); its revocation time, or None when
        the contest has no such key. The row update waits for batches holding the key,
        so once this returns no batch with it can commit."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE aggregator_keys SET revoked_at = coalesce(revoked_at, now()) "
                "WHERE id = $1 AND contest_id = $2 "
                "RETURNING revoked_at, revoked_at = now() AS now_revoked",
                key_id, contest)
            if row is None:
                return None
            if row["now_revoked"]:
                await record_event(conn, contest, "admin", "aggregator_key_revoked",
                                   {"id": key_id})
        self._known = {h: c for h, c in self._known.items() if c[1].id != key_id}
        revoked_at: datetime = row["revoked_at"]
        return revoked_at
