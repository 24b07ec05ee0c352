"""Group commit, driven directly against the test stores."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

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


def _new_vote(contest: str) -> PendingVote:
    """A first vote of a new voter, from Kazakhstan for Uzbekistan."""
    voter = os.urandom(32)
    return PendingVote(contest, app_dedupe_key(voter, "tap"), voter, "KZ", "UZ", "app")


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
    votes = [_new_vote(cid) for _ in range(BURST)]
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


@dataclass
class HeldLedger:
    """A committer without a spare core, on a contest whose row the test holds, so its
    first batch's write waits (record_votes takes the row FOR SHARE) until `release()`."""

    committer: GroupCommitter
    contest: str
    holding: asyncpg.transaction.Transaction

    def vote(self) -> asyncio.Future[Decision]:
        return asyncio.ensure_future(self.committer.submit(_new_vote(self.contest)))

    async def release(self) -> None:
        await self.holding.rollback()


@asynccontextmanager
async def held_ledger(stores: Stores, live_server: LiveServer, api: object,
                      window_ms: float) -> AsyncIterator[HeldLedger]:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    pool = await create_pool(stores.database_url)
    redis = create_redis(stores.redis_url)
    committer = GroupCommitter(pool, LiveTallies(redis), window_ms=window_ms, max_batch=512,
                               meter=FixedMeter(False))
    blocker = await pool.acquire()
    try:
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute("SELECT 1 FROM contests WHERE id = $1 FOR UPDATE", cid)
        yield HeldLedger(committer, cid, holding)
        await committer.stop()
    finally:
        await pool.release(blocker)
        await pool.close()
        await redis.aclose()


async def test_without_a_spare_core_votes_arriving_during_a_write_wait_for_it_as_one_batch(
        stores: Stores, live_server: LiveServer, api: object) -> None:
    """When workers share every core, a write in flight is the window: votes that arrive
    meanwhile gather into the next batch instead of each commit window starting a
    transaction of its own. Two workers cutting 2 ms slices wrote 4-vote transactions
    and fell below one worker's vote rate (docs/benchmarks.md)."""
    window_s = 0.005
    before = _batches_written()
    async with held_ledger(stores, live_server, api, window_s * 1000) as ledger:
        first = ledger.vote()
        later = []
        for _ in range(4):  # each arrival after a whole commit window has passed
            await asyncio.sleep(window_s * 3)
            later.append(ledger.vote())
        await asyncio.sleep(window_s * 3)
        await ledger.release()
        decisions = await asyncio.gather(first, *later)
    assert {d.outcome for d in decisions} == {"accepted"}
    assert _batches_written() - before == 2  # the blocked one, then the four together


async def test_without_a_spare_core_a_few_votes_left_after_a_write_wait_a_window_for_company(
        stores: Stores, live_server: LiveServer, api: object) -> None:
    """The few votes that arrived while a batch was written are not a transaction of
    their own at once: the requests just answered send their next votes within the
    commit window, and they go together. Written at once, every other transaction of
    two busy workers held one or two votes (docs/benchmarks.md)."""
    before = _batches_written()
    async with held_ledger(stores, live_server, api, window_ms=200) as ledger:
        first = ledger.vote()
        await asyncio.sleep(0.3)  # past the window: the first batch is being written
        during = [ledger.vote() for _ in range(2)]
        await asyncio.sleep(0)
        await ledger.release()
        await first  # answered: its client's next votes come a round trip later,
        await asyncio.sleep(0.05)  # well within the window (the stimulus, not a wait)
        after = [ledger.vote() for _ in range(6)]
        decisions = await asyncio.gather(*during, *after)
    assert {d.outcome for d in decisions} == {"accepted"}
    assert _batches_written() - before == 2  # the first, then the eight together
