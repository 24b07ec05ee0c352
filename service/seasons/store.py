"""Seasons and their rounds in PostgreSQL (migrations/0014)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import asyncpg
import msgspec

from service.audit.chain import record_event
from service.contests.models import ContestIn
from service.contests.repository import insert_contest
from service.core.errors import ApiError, not_found
from service.seasons.models import AdvanceRule, Round, Season, SeasonIn
from service.stores.postgres import Conn


def new_season_id(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "season"
    return f"{slug}-{secrets.token_hex(3)}"


def _season(row: Any, rounds: list[Any]) -> Season:
    parts = [Round(name=r["name"], contests=list(r["contests"]),
                   advance=None if r["advance"] is None
                   else msgspec.convert(r["advance"], AdvanceRule))
             for r in rounds]
    current = max((i for i, r in enumerate(parts) if r.contests), default=0)
    return Season(id=row["id"], name=row["name"], rounds=parts, current=current)


async def fetch_season(conn: Conn, season_id: str, lock: bool = False) -> Season:
    row = await conn.fetchrow("SELECT * FROM seasons WHERE id = $1"
                              + (" FOR UPDATE" if lock else ""), season_id)
    if row is None:
        raise not_found(f"season {season_id!r}")
    rounds = await conn.fetch(
        "SELECT * FROM season_rounds WHERE season_id = $1 ORDER BY position", season_id)
    return _season(row, rounds)


class SeasonStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, definition: SeasonIn) -> str:
        """The new season's id; 409 `season_exists`, 422 `unknown_contest`."""
        season_id = definition.id or new_season_id(definition.name)
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchval("SELECT 1 FROM seasons WHERE id = $1", season_id):
                raise ApiError(409, "season_exists", f"season {season_id!r} already exists")
            contests = definition.rounds[0].contests
            known = {r["id"] for r in await conn.fetch(
                "SELECT id FROM contests WHERE id = ANY($1::text[])", contests)}
            missing = [c for c in contests if c not in known]
            if missing:
                raise ApiError(422, "unknown_contest",
                               f"rounds[0].contests: no contest {missing[0]!r}")
            await conn.execute("INSERT INTO seasons (id, name) VALUES ($1, $2)",
                               season_id, definition.name)
            await conn.executemany(
                "INSERT INTO season_rounds (season_id, position, name, advance, contests) "
                "VALUES ($1, $2, $3, $4, $5)",
                [(season_id, i, r.name,
                  None if r.advance is None else msgspec.to_builtins(r.advance), r.contests)
                 for i, r in enumerate(definition.rounds)])
            for contest in contests:
                await record_event(conn, contest, "admin", "season_round",
                                   {"season": season_id, "round": 0})
        return season_id

    async def get(self, season_id: str) -> Season:
        async with self._pool.acquire() as conn:
            return await fetch_season(conn, season_id)

    async def frozen_results(self, contests: list[str]) -> dict[str, str | None]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch("SELECT id, frozen_result::text AS frozen FROM contests "
                                    "WHERE id = ANY($1::text[])", contests)
        return {r["id"]: r["frozen"] for r in rows}

    async def add_round_contest(self, season_id: str, position: int, definition: ContestIn,
                                vote_cap: int, going_on: list[str], out: list[str]) -> str:
        """Create the next round's contest, unless another advance did it first (409)."""
        async with self._pool.acquire() as conn, conn.transaction():
            season = await fetch_season(conn, season_id, lock=True)
            if season.current != position - 1:
                raise ApiError(409, "season_complete",
                               f"round {position} of season {season_id!r} exists already")
            if definition.id and await conn.fetchval(
                    "SELECT 1 FROM contests WHERE id = $1", definition.id):
                raise ApiError(409, "contest_exists", f"contest {definition.id!r} exists")
            contest_id = await insert_contest(conn, definition, vote_cap)
            await conn.execute(
                "UPDATE season_rounds SET contests = ARRAY[$3::text] "
                "WHERE season_id = $1 AND position = $2", season_id, position, contest_id)
            await record_event(conn, contest_id, "admin", "season_advanced", {
                "season": season_id, "round": position,
                "from": season.rounds[position - 1].contests, "going_on": going_on,
                "out": out})
        return contest_id
