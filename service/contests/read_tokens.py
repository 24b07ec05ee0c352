"""Read tokens: revocable, read-only credentials that see a contest's full results.

A graphics system or a scrutineer's screen needs the standings while the public does
not see them (`results_visibility`), but must not hold the admin token, which can
change the show. An admin issues one token per system; it reads the full results view
and the full websocket of its contest and nothing else, and is revoked on its own.

Only the token's hash is stored. A check is remembered for `CACHE_S`, so a graphics
system polling results costs the ledger a query a second, not one per poll; a revoked
token therefore stops working within `CACHE_S` in every process for every new request.
What it had opened ends at once: the revocation is announced to every process, whose
hub closes each websocket the token opened (4403), and a ticket bought with it before
is checked against the ledger when it is redeemed (service/live/ws.py).
"""

from __future__ import annotations

import secrets
import time

import asyncpg
import msgspec

from service.audit.chain import record_event
from service.contests.models import ReadTokenInfo, ReadTokenOut
from service.security.credentials import hash_secret

CACHE_S = 1.0
TOKEN_PREFIX = "read_"
_CACHE_LIMIT = 10_000  # distinct hashes remembered; more are looked up every time


class ReadGrant(msgspec.Struct, frozen=True):
    """A live read token: the contest it reads, and its id (what a revocation names)."""

    contest: str
    id: str


class ReadTokens:
    """Issue, list, revoke and check read tokens (one pooled connection per call)."""

    def __init__(self, pool: asyncpg.Pool, cache_s: float = CACHE_S) -> None:
        self._pool = pool
        self._cache_s = cache_s
        self._known: dict[bytes, tuple[float, ReadGrant | None]] = {}

    async def issue(self, contest_id: str, label: str) -> ReadTokenOut:
        token = TOKEN_PREFIX + secrets.token_urlsafe(24)
        token_id = "read-" + secrets.token_hex(4)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO read_tokens (id, contest_id, label, token_hash) "
                "VALUES ($1, $2, $3, $4)", token_id, contest_id, label, hash_secret(token))
            await record_event(conn, contest_id, "admin", "read_token_issued",
                               {"id": token_id, "label": label})
        return ReadTokenOut(token_id, token, label)

    async def list(self, contest_id: str) -> list[ReadTokenInfo]:
        rows = await self._pool.fetch(
            "SELECT id, label, created_at, revoked_at FROM read_tokens "
            "WHERE contest_id = $1 ORDER BY created_at, id", contest_id)
        return [ReadTokenInfo(r["id"], r["label"], r["created_at"], r["revoked_at"])
                for r in rows]

    async def revoke(self, contest_id: str, token_id: str) -> ReadTokenInfo | None:
        """The revoked token (revoking twice keeps the first time), None if unknown."""
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE read_tokens SET revoked_at = coalesce(revoked_at, now()) "
                "WHERE contest_id = $1 AND id = $2 "
                "RETURNING id, label, created_at, revoked_at, token_hash", contest_id, token_id)
            if row is None:
                return None
            await record_event(conn, contest_id, "admin", "read_token_revoked",
                               {"id": token_id})
        self._known.pop(row["token_hash"], None)
        return ReadTokenInfo(row["id"], row["label"], row["created_at"], row["revoked_at"])

    async def grant_of(self, token: str) -> ReadGrant | None:
        """The contest and id of a live read token, None for anything else."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = hash_secret(token)
        cached = self._known.get(digest)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1]
        row = await self._pool.fetchrow(
            "SELECT contest_id, id FROM read_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            digest)
        grant = None if row is None else ReadGrant(row["contest_id"], row["id"])
        if len(self._known) >= _CACHE_LIMIT:
            self._known.clear()
        self._known[digest] = (now, grant)
        return grant

    async def is_live(self, token_id: str) -> bool:
        """Not revoked, asked of the ledger itself (no cache): a ticket's last check."""
        return bool(await self._pool.fetchval(
            "SELECT 1 FROM read_tokens WHERE id = $1 AND revoked_at IS NULL", token_id))
