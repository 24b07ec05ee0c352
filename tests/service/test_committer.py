"""Group commit, driven directly against the test stores."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service import metrics
from service.db import create_pool
from service.intake.committer import MIN_CUT, GroupCommitter, SpareCoreMeter
from service.intake.ledger import Decision, PendingVote, app_dedupe_key
from service.redis_store import create_redis
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
    committer = GroupCommitter(pool, redis, window_ms=50, max_batch=512, meter=meter)
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


@pytest.mark.stores_independent
@pytest.mark.parametrize(("before", "blocked", "waiting", "after"), [
    (False, 0.08, 0.02, True),    # blocked on the ledger with a core free: cut early
    (False, 0.10, 0.30, False),   # blocked, but runnable time already waits for a core
    (False, 0.03, 0.02, False),   # too little blocking to bother
    (True, 0.03, 0.02, True),     # once cutting, the blocking it left is small: stay
    (True, 0.005, 0.02, False),   # blocking all but stopped (traffic fell away)
    (True, 0.08, 0.15, False),    # the cores got busy: bigger batches save CPU
])
def test_the_meter_cuts_early_only_while_a_core_is_spare(
        before: bool, blocked: float, waiting: float, after: bool) -> None:
    assert SpareCoreMeter.judge(before, blocked, waiting) is after


@pytest.mark.stores_independent
@given(st.booleans(), st.floats(0, 1), st.floats(SpareCoreMeter.MAX_WAITING, 1))
def test_waiting_for_a_core_always_turns_early_cuts_off(
        before: bool, blocked: float, waiting: float) -> None:
    assert SpareCoreMeter.judge(before, blocked, waiting) is False


@pytest.mark.stores_independent
def test_the_meter_reads_this_process_on_linux() -> None:
    meter = SpareCoreMeter()
    assert meter._sample() is not None or not os.path.exists("/proc/self/schedstat")
    meter.update()  # never raises, whatever the platform


@pytest.mark.stores_independent
def test_time_throttled_by_a_cpu_limit_counts_as_waiting_for_a_core(tmp_path: Path) -> None:
    """A pod at its CPU limit is dequeued, not queued: schedstat alone would call that
    time blocked and cut early, spending CPU the pod does not have."""
    schedstat, cpu_stat = tmp_path / "schedstat", tmp_path / "cpu.stat"
    schedstat.write_text("1000000000 500000000 7\n")
    cpu_stat.write_text("usage_usec 9\nnr_throttled 3\nthrottled_usec 2500000\n")

    class InContainer(SpareCoreMeter):
        SCHEDSTAT, CGROUP_CPU_STAT = schedstat, cpu_stat

    sample = InContainer()._sample()
    assert sample is not None and sample[1:] == (1.0, 3.0)
