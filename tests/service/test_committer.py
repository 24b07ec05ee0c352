"""Group commit, driven directly against the test stores."""

from __future__ import annotations

import asyncio
import os

import asyncpg

from service import metrics
from service.db import create_pool
from service.intake.committer import MIN_CUT, GroupCommitter
from service.intake.ledger import PendingVote, app_dedupe_key
from service.redis_store import create_redis
from tests.conftest import LiveServer, Stores
from tests.service.helpers import open_window


def _batches_written() -> float:
    return sum(s.value for s in metrics.COMMIT_BATCH_SIZE.collect()[0].samples
               if s.name.endswith("_count"))


async def test_a_burst_is_written_in_overlapping_batches_not_one_convoy(
        stores: Stores, live_server: LiveServer, api: object,
        ledger: asyncpg.Connection) -> None:
    """64 votes that arrive together must not wait for one 64-vote transaction: the
    first batch is cut at MIN_CUT, and later ones once they match what is being written,
    so the ledger writes one part while the process prepares the next."""
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    pool = await create_pool(stores.database_url)
    redis = create_redis(stores.redis_url)
    committer = GroupCommitter(pool, redis, window_ms=50, max_batch=512)
    votes = [PendingVote(cid, app_dedupe_key(v, "tap"), v, "KZ", "UZ", "app")
             for v in (os.urandom(32) for _ in range(64))]
    before = _batches_written()
    try:
        decisions = await asyncio.gather(*(committer.submit(v) for v in votes))
        await committer.stop()
    finally:
        await pool.close()
        await redis.aclose()
    assert {d.outcome for d in decisions} == {"accepted"}
    assert await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", cid) == 64
    batches = _batches_written() - before
    assert 3 <= batches <= 64 // MIN_CUT  # not one 64-vote batch after the 50 ms window
