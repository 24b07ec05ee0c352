"""A vote batch locks its own contest's ledger, not every contest's.

The ledger is partitioned by contest (9 tables each). A cached generic plan of
`record_votes` locks every partition of `votes` on every call, so a database holding a
season of contests (semi-finals, finals, rehearsals) paid for all of them on each batch,
and a few concurrent batches ran PostgreSQL out of lock slots (`out of shared memory`).
"""

from __future__ import annotations

import os

import asyncpg

from service.intake.ledger import PendingVote, app_dedupe_key, record_votes
from tests.conftest import LiveServer, Stores
from tests.service.helpers import open_window

OTHER_CONTESTS = 12


async def test_a_batch_locks_the_same_few_tables_however_many_contests_the_database_holds(
        stores: Stores, live_server: LiveServer, api: object) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    conn = await asyncpg.connect(stores.database_url)  # no session settings: the
    # function's own plan_cache_mode must do it

    async def locks_of_one_batch() -> int:
        async with conn.transaction():
            for _ in range(7):  # past PL/pgSQL's switch to a cached generic plan
                voter = os.urandom(32)
                await record_votes(conn, cid, [PendingVote(
                    cid, app_dedupe_key(voter, "k"), voter, "KZ", "UZ", "app")])
            return int(await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND locktype = 'relation'"))

    try:
        before = await locks_of_one_batch()
        for _ in range(OTHER_CONTESTS):
            live_server.new_contest()
        after = await locks_of_one_batch()
    finally:
        await conn.close()
    # each new contest adds 9 partitions (and their indexes) that a generic plan would lock
    assert after <= before + 2, (before, after)
