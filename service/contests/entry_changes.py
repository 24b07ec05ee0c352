"""Entry changes after set-up: rename, reorder, disqualify (admin), each an audit event.

Every change runs in one transaction that locks the contest row, checks that the
results are neither frozen (the reveal speaks from one count) nor sealed (the signed
statement covers the contest as it was), applies the change and appends its audit event,
so a change is either complete and recorded or not made at all.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from service.audit.chain import record_event
from service.core.errors import ApiError, not_found
from service.stores.postgres import Conn


async def _lock_changeable(conn: Conn, contest_id: str) -> None:
    row = await conn.fetchrow(
        "SELECT frozen_result IS NOT NULL AS frozen FROM contests WHERE id = $1 FOR UPDATE",
        contest_id)
    if row is None:
        raise not_found(f"contest {contest_id!r}")
    if await conn.fetchval("SELECT 1 FROM seals WHERE contest_id = $1", contest_id):
        raise ApiError(409, "sealed", f"contest {contest_id!r} is sealed: its entries stay "
                       "as they were sealed")
    if row["frozen"]:
        raise ApiError(409, "result_frozen", f"the results of contest {contest_id!r} are "
                       "frozen for the reveal: entries can no longer change")


async def _entry(conn: Conn, contest_id: str, country: str) -> Any:
    row = await conn.fetchrow(
        "SELECT * FROM entries WHERE contest_id = $1 AND country = $2", contest_id, country)
    if row is None:
        raise not_found(f"entry {country!r} of contest {contest_id!r}")
    return row


async def rename_entry(conn: Conn, contest_id: str, country: str, artist: str | None,
                       song: str | None) -> None:
    async with conn.transaction():
        await _lock_changeable(conn, contest_id)
        before = await _entry(conn, contest_id, country)
        after = {"artist": before["artist"] if artist is None else artist,
                 "song": before["song"] if song is None else song}
        await conn.execute(
            "UPDATE entries SET artist = $3, song = $4 WHERE contest_id = $1 AND country = $2",
            contest_id, country, after["artist"], after["song"])
        await record_event(conn, contest_id, "admin", "entry_renamed", {
            "country": country, "before": {"artist": before["artist"], "song": before["song"]},
            "after": after})


async def reorder_entries(conn: Conn, contest_id: str, order: list[str]) -> None:
    """Give the entries running orders 1..n in `order` (which must list each once)."""
    async with conn.transaction():
        await _lock_changeable(conn, contest_id)
        rows = await conn.fetch(
            "SELECT country FROM entries WHERE contest_id = $1 ORDER BY running_order",
            contest_id)
        before = [r["country"] for r in rows]
        if sorted(order) != sorted(before):
            raise ApiError(422, "running_order_mismatch",
                           "the order must list every entry of the contest exactly once "
                           f"(entries: {', '.join(before)})")
        # two steps: the UNIQUE (contest_id, running_order) holds after every statement
        await conn.execute("UPDATE entries SET running_order = running_order + 100000 "
                           "WHERE contest_id = $1", contest_id)
        await conn.executemany(
            "UPDATE entries SET running_order = $3 WHERE contest_id = $1 AND country = $2",
            [(contest_id, c, i) for i, c in enumerate(order, start=1)])
        await record_event(conn, contest_id, "admin", "entries_reordered",
                           {"before": before, "after": order})


async def disqualify_entry(conn: Conn, contest_id: str, country: str, reason: str) -> None:
    async with conn.transaction():
        await _lock_changeable(conn, contest_id)
        entry = await _entry(conn, contest_id, country)
        if entry["status"] == "disqualified":
            raise ApiError(409, "already_disqualified",
                           f"{country} is already disqualified from {contest_id!r}")
        remaining = await conn.fetchval(
            "SELECT count(*) FROM entries WHERE contest_id = $1 AND status = 'in'", contest_id)
        if remaining <= 1:
            raise ApiError(409, "last_entry", "a contest keeps at least one entry in the running")
        await conn.execute(
            "UPDATE entries SET status = 'disqualified', status_reason = $3 "
            "WHERE contest_id = $1 AND country = $2", contest_id, country, reason)
        await record_event(conn, contest_id, "admin", "entry_disqualified",
                           {"country": country, "reason": reason})


class EntryChanges:
    """The entry changes, each on its own pooled connection."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def rename(self, contest_id: str, country: str, artist: str | None,
                     song: str | None) -> None:
        async with self._pool.acquire() as conn:
            await rename_entry(conn, contest_id, country, artist, song)

    async def reorder(self, contest_id: str, order: list[str]) -> None:
        async with self._pool.acquire() as conn:
            await reorder_entries(conn, contest_id, order)

    async def disqualify(self, contest_id: str, country: str, reason: str) -> None:
        async with self._pool.acquire() as conn:
            await disqualify_entry(conn, contest_id, country, reason)
