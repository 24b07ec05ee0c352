"""Group commit, driven directly against the test stores."""

from __future__ import annotations

import asyncio
import os

from service.core import metrics
from service.intake.committer import MIN_CUT, GroupCommitter
from service.intake.ledger import Decision, PendingVote, app_dedupe_key
from service.intake.spare_core import SpareCoreMeter
from service.intake.tallies import LiveTallies
from service.stores.postgres import create_pool
from service.stores.redis import create_redis
from tests.conftest import LiveServer, Stores
from tests.service.helpers import open_window

BURST = 64


class FixedMeter(SpareCoreMeter):
    """A meter whose answer the test sets: the scheduler's view is not under test here."""

    def __init__(self, cut_early: bool) -> None:
        self.cut_early = cut_early

    def update(self) -> None:
        return None


def _batches_written() -> float:
    return sum(s.value for s in metrics.COMMIT_BATCH_SIZE.collect()[0].samples
               if s.name.endswith("_count"))


async def _burst(stores: Stores, live_server: LiveServer, api: object,
                 meter: SpareCoreMeter) -> tuple[list[Decision], float]:
    """BURST votes submitted at once; their decisions and how many batches carried them."""
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    pool = await create_pool(stores.database_url)
    redis = create_redis(stores.redis_url)
    committer = GroupCommitter(pool, LiveTallies(redis), window_ms=50, max_batch=512,
                               meter=meter)
    votes = [PendingVote(cid, app_dedupe_key(v, "tap"), v, "KZ", "UZ", "app")
             for v in (os.urandom(32) for _ in range(BURST))]
    before = _batches_written()
    try:
        decisions = await asyncio.gather(*(committer.submit(v) for v in votes))
        await committer.stop()
    finally:
        await pool.close()
        await redis.aclose()
    return decisions, _batches_written() - before


async def test_with_a_spare_core_a_burst_is_written_in_overlapping_batches(
        stores: Stores, live_server: LiveServer, api: object) -> None:
    """Votes that arrive together must not all wait for one transaction while the
    process idles: the first batch is cut at MIN_CUT, later ones once they match what is
    being written, so the ledger writes one part while the process prepares the next."""
    decisions, batches = await _burst(stores, live_server, api, FixedMeter(True))
    assert {d.outcome for d in decisions} == {"accepted"}
    assert 3 <= batches <= BURST // MIN_CUT  # not one 64-vote batch after the window


async def test_without_a_spare_core_a_burst_stays_one_batch(
        stores: Stores, live_server: LiveServer, api: object) -> None:
    """When workers already share every core, smaller batches only cost CPU."""
    decisions, batches = await _burst(stores, live_server, api, FixedMeter(False))
    assert {d.outcome for d in decisions} == {"accepted"}
    assert batches == 1
