"""The scheduler's database-side guard (service/contests/schedule_store.py): two
processes flipping the same scheduled window at once (a lease handover) change it
once, and a producer's close after the scheduled opening is never undone."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import msgspec

from service.contests.demo import demo_definition
from service.contests.repository import insert_contest, set_window
from service.contests.schedule_store import ScheduleStore
from service.stores.postgres import create_pool
from tests.conftest import Stores


async def _contest(conn: object, opens_in_s: float, closes_in_s: float) -> str:
    now = datetime.now(UTC)
    definition = msgspec.structs.replace(
        demo_definition(), id="sched-" + secrets.token_hex(4),
        opens_at=now + timedelta(seconds=opens_in_s),
        closes_at=now + timedelta(seconds=closes_in_s))
    return await insert_contest(conn, definition, 20)  # type: ignore[arg-type]


async def test_two_flippers_at_once_open_the_window_once(stores: Stores) -> None:
    pool = await create_pool(stores.database_url, max_size=4)
    try:
        store = ScheduleStore(pool)
        async with pool.acquire() as conn:
            cid = await _contest(conn, -0.5, 60)
        assert (cid, "open") in await store.due()
        flips = await asyncio.gather(store.flip(cid, "open"), store.flip(cid, "open"))
        assert sorted(f is not None for f in flips) == [False, True]
        async with pool.acquire() as conn:
            events = await conn.fetch("SELECT state FROM window_events WHERE contest_id = $1", cid)
            state = await conn.fetchval("SELECT window_state FROM contests WHERE id = $1", cid)
        assert [e["state"] for e in events] == ["open"] and state == "open"
    finally:
        await pool.close()


async def test_a_manual_close_after_the_scheduled_opening_stays_closed(stores: Stores) -> None:
    pool = await create_pool(stores.database_url, max_size=2)
    try:
        store = ScheduleStore(pool)
        async with pool.acquire() as conn:
            cid = await _contest(conn, -0.5, 60)
            assert await store.flip(cid, "open") is not None
            await set_window(conn, cid, "closed")  # the producer stops the vote
        assert (cid, "open") not in await store.due()
        assert await store.flip(cid, "open") is None
    finally:
        await pool.close()
