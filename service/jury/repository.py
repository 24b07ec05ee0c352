"""Jurors and ballots in PostgreSQL. Ballots are append-only; the latest row counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.audit.chain import record_event
from service.core.errors import ApiError
from service.stores.postgres import Conn


async def juror_by_code(conn: Conn, code_hash: bytes) -> Any:
    return await conn.fetchrow(
        "SELECT id, contest_id, country, code_used_at FROM jurors WHERE code_hash = $1", code_hash
    )


async def claim_code(conn: Conn, juror_id: str, contest_id: str, nonce: str) -> bool:
    """Bind the juror to one device session; False if the code was already used."""
    async with conn.transaction():
        claimed = await conn.fetchval(
            "UPDATE jurors SET code_used_at = now(), session_nonce = $2 "
            "WHERE id = $1 AND code_used_at IS NULL RETURNING id", juror_id, nonce,
        )
        if claimed is not None:
            await record_event(conn, contest_id, f"juror:{juror_id}", "juror_session", {})
    return claimed is not None


async def reissue_code(conn: Conn, contest_id: str, juror_id: str,
                       code_hash: bytes) -> bool:
    """A fresh code for a juror; the old code and any session it opened stop working."""
    async with conn.transaction():
        updated = await conn.fetchval(
            "UPDATE jurors SET code_hash = $3, code_used_at = NULL, session_nonce = NULL "
            "WHERE id = $2 AND contest_id = $1 RETURNING id", contest_id, juror_id, code_hash,
        )
        if updated is not None:
            await record_event(conn, contest_id, "admin", "juror_code_reissued",
                               {"juror_id": juror_id})
    return updated is not None


async def session_is_current(conn: Conn, juror_id: str, nonce: str) -> bool:
    current = await conn.fetchval("SELECT session_nonce FROM jurors WHERE id = $1", juror_id)
    return current is not None and current == nonce


async def save_ballot(conn: Conn, contest_id: str, juror_id: str,
                      ranking: list[str], digest: str) -> datetime:
    """Append a ballot unless the jury is locked (the lock and this write serialise)."""
    async with conn.transaction():
        locked_at = await conn.fetchval(
            "SELECT jury_locked_at FROM contests WHERE id = $1 FOR SHARE", contest_id
        )
        if locked_at is not None:
            raise ApiError(409, "ballot_locked", "the jury deadline has passed; ballots are locked")
        previous = await conn.fetchval(
            "SELECT ballot_hash FROM ballots WHERE contest_id = $1 AND juror_id = $2 "
            "ORDER BY id DESC LIMIT 1", contest_id, juror_id,
        )
        submitted_at: datetime = await conn.fetchval(
            "INSERT INTO ballots (contest_id, juror_id, ranking, ballot_hash) "
            "VALUES ($1, $2, $3, $4) RETURNING submitted_at",
            contest_id, juror_id, ranking, digest,
        )
        await record_event(conn, contest_id, f"juror:{juror_id}", "ballot_saved",
                           {"juror_id": juror_id, "ballot_hash": digest, "previous_hash": previous})
    return submitted_at


async def latest_ballot(conn: Conn, contest_id: str, juror_id: str) -> Any:
    return await conn.fetchrow(
        "SELECT ranking, submitted_at, ballot_hash FROM ballots "
        "WHERE contest_id = $1 AND juror_id = $2 ORDER BY id DESC LIMIT 1", contest_id, juror_id,
    )


async def lock_jury(conn: Conn, contest_id: str) -> datetime | None:
    """Set the jury deadline now (idempotent); None if the contest does not exist."""
    async with conn.transaction():
        locked_at: datetime | None = await conn.fetchval(
            "UPDATE contests SET jury_locked_at = coalesce(jury_locked_at, now()) "
            "WHERE id = $1 RETURNING jury_locked_at", contest_id,
        )
        if locked_at is not None:
            await record_event(conn, contest_id, "admin", "jury_locked", {})
    return locked_at


async def jury_rankings(conn: Conn, contest_id: str) -> dict[str, list[list[str]]]:
    """Every juror's latest ballot, grouped by the juror's country (ordered by juror id)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (b.juror_id) j.country, b.ranking
             FROM ballots b JOIN jurors j ON j.id = b.juror_id
            WHERE b.contest_id = $1
            ORDER BY b.juror_id, b.id DESC""",
        contest_id,
    )
    grouped: dict[str, list[list[str]]] = {}
    for row in rows:
        grouped.setdefault(row["country"], []).append(list(row["ranking"]))
    return grouped


async def juror_statuses(conn: Conn, contest_id: str) -> list[Any]:
    return await conn.fetch(
        """SELECT j.id, j.country, j.name, j.code_used_at IS NOT NULL AS code_used,
                  (SELECT max(b.submitted_at) FROM ballots b WHERE b.juror_id = j.id) AS ballot_at
             FROM jurors j WHERE j.contest_id = $1 ORDER BY j.country, j.id""",
        contest_id,
    )
