"""Whether this process has a core to spare, read from the kernel's scheduler counters.

The group committer asks it before cutting batches early (`service/intake/committer.py`):
that only pays when the process would otherwise sit blocked on the ledger with a free
core, never when workers already share every core or a container limit throttles them.
"""

from __future__ import annotations

import time
from pathlib import Path

from service.core import metrics


class SpareCoreMeter:
    """Whether cutting batches early would turn blocked time into work, judged from
    /proc/self/schedstat (time on a core, time runnable but waiting for one).

    Early cuts pay when the process blocks on the ledger while a core sits free for it:
    it then writes one part while it prepares the next. When its runnable time already
    waits for a core (as many busy workers as cores), the blocked time is someone
    else's work, and smaller transactions only cost CPU. Enters at `ENTER_BLOCKED` of
    the time blocked with under `MAX_WAITING` waiting for a core; leaves when waiting
    grows or blocking all but stops. Time the container's CPU limit throttled the process
    counts as waiting. Without schedstat (not Linux) it never cuts early.
    """

    INTERVAL_S = 0.05
    ENTER_BLOCKED = 0.05
    LEAVE_BLOCKED = 0.01
    MAX_WAITING = 0.10
    COUNTED_GAP_S = 1.0  # longest interval between writes counted in the mode's metric
    SCHEDSTAT = Path("/proc/self/schedstat")
    CGROUP_CPU_STAT = Path("/sys/fs/cgroup/cpu.stat")  # cgroup v2: CPU quota throttling

    def __init__(self) -> None:
        self.cut_early = False
        self._last = self._sample()

    def _sample(self) -> tuple[float, float, float] | None:
        """(now, seconds on a core, seconds kept from one): waiting in the run queue, or
        throttled by the container's CPU limit, which schedstat counts as blocked."""
        try:
            on_core_ns, waiting_ns = self.SCHEDSTAT.read_bytes().split()[:2]
        except (OSError, ValueError):
            return None
        return (time.monotonic(), int(on_core_ns) / 1e9,
                int(waiting_ns) / 1e9 + self._throttled_s())

    def _throttled_s(self) -> float:
        try:
            for line in self.CGROUP_CPU_STAT.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "throttled_usec":
                    return int(value) / 1e6
        except (OSError, ValueError):
            pass
        return 0.0

    def update(self) -> None:
        """Re-judge at most every INTERVAL_S (a file read costs a few microseconds)."""
        if self._last is None or time.monotonic() - self._last[0] < self.INTERVAL_S:
            return
        sample = self._sample()
        if sample is None:
            return
        wall = max(sample[0] - self._last[0], 1e-9)
        waiting = (sample[2] - self._last[2]) / wall
        blocked = 1.0 - (sample[1] - self._last[1]) / wall - waiting
        self._last = sample
        if self.cut_early and wall <= self.COUNTED_GAP_S:  # a longer gap wrote nothing
            metrics.COMMIT_CUT_EARLY_SECONDS.inc(wall)
        self.cut_early = self.judge(self.cut_early, blocked, waiting)

    @classmethod
    def judge(cls, cut_early: bool, blocked: float, waiting: float) -> bool:
        """The new decision, from the shares of wall time blocked and waiting for a core."""
        if waiting >= cls.MAX_WAITING or blocked < cls.LEAVE_BLOCKED:
            return False
        return cut_early or blocked >= cls.ENTER_BLOCKED
