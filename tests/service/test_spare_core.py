"""The spare-core meter: when cutting commit batches early pays."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core import metrics
from service.intake.spare_core import SpareCoreMeter


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


def _cut_early_seconds() -> float:
    return sum(s.value for s in metrics.COMMIT_CUT_EARLY_SECONDS.collect()[0].samples
               if s.name.endswith("_total"))


@pytest.mark.stores_independent
def test_the_time_spent_cutting_early_is_counted_and_a_quiet_gap_is_not(
        tmp_path: Path) -> None:
    """`silkvote_commit_cut_early_seconds` tells an operator (and the bench) which mode
    the committer ran in; the gap before the first write after a quiet spell wrote
    nothing, in either mode, so it is left out."""
    schedstat = tmp_path / "schedstat"
    schedstat.write_text("0 0 1\n")

    class Faked(SpareCoreMeter):
        SCHEDSTAT, CGROUP_CPU_STAT = schedstat, tmp_path / "absent"

    meter = Faked()
    meter.cut_early = True
    before = _cut_early_seconds()
    now = time.monotonic()
    meter._last = (now - 0.2, 0.0, 0.0)  # 0.2 s ago, cutting early since
    schedstat.write_text("100000000 0 2\n")  # half of it on a core, blocked the rest
    meter.update()
    counted = _cut_early_seconds() - before
    assert 0.2 <= counted < 0.2 + 0.5
    assert meter.cut_early

    meter._last = (time.monotonic() - 30, 0.1, 0.0)  # then 30 s without a write
    schedstat.write_text("200000000 0 3\n")
    meter.update()
    assert _cut_early_seconds() - before == pytest.approx(counted)
