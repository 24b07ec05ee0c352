"""Jurors and ballots in PostgreSQL. Ballots are append-only; the latest row counts.

Every change is written with its audit event in one transaction, so the chain can
never miss a ballot or a code that was issued.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg

from service.audit.chain import record_event
from service.core.errors import ApiError, unauthorized
from service.stores.postgres import Conn

Rankings = dict[str, list[list[str]]]  # juror country -> each juror's latest ranking


class JurorIdentity(NamedTuple):
    id: str
    contest: str
    country: str


async def jury_rankings(conn: Conn, contest_id: str) -> Rankings:
    """Every juror's latest ballot, grouped by the juror's country (ordered by juror id)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (b.juror_id) j.country, b.ranking
             FROM ballots b JOIN jurors j ON j.id = b.juror_id
            WHERE b.contest_id = $1
            ORDER BY b.juror_id, b.id DESC""",
        contest_id,
    )
    grouped: Rankings = {}
    for row in rows:
        grouped.setdefault(row["country"], []).append(list(row["ranking"]))
    return grouped


class JuryStore:
    """Jurors, their one-time codes and sessions, ballots and the jury lock."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_juror(self, contest_id: str, country: str, name: str,
                        code_hash: bytes) -> str:
        juror_id = f"j-{country.lower()}-{secrets.token_hex(3)}"
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO jurors (id, contest_id, country, name, code_hash)
                   VALUES ($1, $2, $3, $4, $5)""",
                juror_id, contest_id, country, name, code_hash,
            )
            await record_event(conn, contest_id, "admin", "juror_created",
                               {"juror_id": juror_id, "country": country})
        return juror_id

    async def redeem_code(self, code_hash: bytes, nonce: str) -> JurorIdentity:
        """Bind the code's juror to one device session (`nonce`); 401 for an unknown
        code, 409 when it was already redeemed on another device."""
        async with self._pool.acquire() as conn:
            juror = await conn.fetchrow(
                "SELECT id, contest_id, country FROM jurors WHERE code_hash = $1", code_hash)
            if juror is None:
                raise unauthorized("unknown access code")
            async with conn.transaction():
                claimed = await conn.fetchval(
                    "UPDATE jurors SET code_used_at = now(), session_nonce = $2 "
                    "WHERE id = $1 AND code_used_at IS NULL RETURNING id", juror["id"], nonce,
                )
                if claimed is None:
                    raise ApiError(409, "code_used", "this code was already used on another "
                                   "device; ask the producer to reissue it")
                await record_event(conn, juror["contest_id"], f"juror:{juror['id']}",
                                   "juror_session", {})
        return JurorIdentity(juror["id"], juror["contest_id"], juror["country"])

    async def reissue_code(self, contest_id: str, juror_id: str, code_hash: bytes) -> bool:
        """A fresh code for a juror; the old code and any session it opened stop working."""
        async with self._pool.acquire() as conn, conn.transaction():
            updated = await conn.fetchval(
                "UPDATE jurors SET code_hash = $3, code_used_at = NULL, session_nonce = NULL "
                "WHERE id = $2 AND contest_id = $1 RETURNING id", contest_id, juror_id,
                code_hash,
            )
            if updated is not None:
                await record_event(conn, contest_id, "admin", "juror_code_reissued",
                                   {"juror_id": juror_id})
        return updated is not None

    async def session_is_current(self, juror_id: str, nonce: str) -> bool:
        current = await self._pool.fetchval(
            "SELECT session_nonce FROM jurors WHERE id = $1", juror_id)
        return current is not None and current == nonce

    async def save_ballot(self, contest_id: str, juror_id: str, ranking: list[str],
                          digest: str) -> datetime:
        """Append a ballot unless the jury is locked (the lock and this write serialise)."""
        async with self._pool.acquire() as conn, conn.transaction():
            locked_at = await conn.fetchval(
                "SELECT jury_locked_at FROM contests WHERE id = $1 FOR SHARE", contest_id
            )
            if locked_at is not None:
                raise ApiError(409, "ballot_locked",
                               "the jury deadline has passed; ballots are locked")
            previous = await conn.fetchval(
                "SELECT ballot_hash FROM ballots WHERE contest_id = $1 AND juror_id = $2 "
                "ORDER BY id DESC LIMIT 1", contest_id, juror_id,
            )
            submitted_at: datetime = await conn.fetchval(  # the owner's function (0010)
                "SELECT save_ballot($1, $2, $3, $4)", contest_id, juror_id, ranking, digest)
            await record_event(conn, contest_id, f"juror:{juror_id}", "ballot_saved",
                               {"juror_id": juror_id, "ballot_hash": digest,
                                "previous_hash": previous})
        return submitted_at

    async def latest_ballot(self, contest_id: str, juror_id: str) -> Any:
        return await self._pool.fetchrow(
            "SELECT ranking, submitted_at, ballot_hash FROM ballots "
            "WHERE contest_id = $1 AND juror_id = $2 ORDER BY id DESC LIMIT 1",
            contest_id, juror_id,
        )

    async def lock(self, contest_id: str) -> datetime | None:
        """Set the jury deadline now (idempotent); None if the contest does not exist."""
        async with self._pool.acquire() as conn, conn.transaction():
            locked_at: datetime | None = await conn.fetchval(  # the owner's function (0010)
                "SELECT lock_jury($1)", contest_id)
            if locked_at is not None:
                await record_event(conn, contest_id, "admin", "jury_locked", {})
        return locked_at

    async def rankings(self, contest_id: str) -> Rankings:
        async with self._pool.acquire() as conn:
            return await jury_rankings(conn, contest_id)

    async def statuses(self, contest_id: str) -> list[Any]:
        return await self._pool.fetch(
            """SELECT j.id, j.country, j.name, j.code_used_at IS NOT NULL AS code_used,
                      (SELECT max(b.submitted_at) FROM ballots b
                        WHERE b.juror_id = j.id) AS ballot_at
                 FROM jurors j WHERE j.contest_id = $1 ORDER BY j.country, j.id""",
            contest_id,
        )

    async def ballot_versions(self, contest_id: str) -> list[Any]:
        """Every ballot ever submitted, oldest first, with its juror (for the scrutineer)."""
        return await self._pool.fetch(
            """SELECT b.id, b.juror_id, j.country, j.name, b.submitted_at, b.ballot_hash,
                      b.ranking FROM ballots b JOIN jurors j ON j.id = b.juror_id
                WHERE b.contest_id = $1 ORDER BY b.id""", contest_id)
