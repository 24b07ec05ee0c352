"""The regression guard: single votes per busy core, against this host class's baseline.

Why per busy core: votes/s alone moves with whatever else the machine runs, but the
CPU the service, PostgreSQL and Redis spend per vote does not (much), and "votes per
second per busy core" is its inverse. Hosts of the same size still differ by CPU model,
so baselines are kept per host class (cores and CPU model), in `baselines.json` beside
this file, written by `python -m loadtests.bench --record-baseline`. A full run whose
figure falls more than `TOLERANCE` below its class's baseline exits non-zero.

A shared VM's speed also moves between runs, by a sixth within an hour here (the same
code gave 10,742 and 9,049 `/healthz` req/s, and failed the guard at -15 %). So each run
times `sum(range(1000))` beside its vote slices (`host_speed_us`: no code of ours runs in
it), and a baseline that has that time is compared at its own host speed: the run's
figure is scaled by how much slower or faster the host ran. A faster host then hides no
regression, and a slower one fails no good change.

That scaling holds only near the baseline's speed: one CPU name covers hosts of very
different speed (two "AMD EPYC" VMs ran `sum(range(1000))` in 11.7 and 28.9 µs on the
same day), and the part of a vote that is not Python does not slow down in step, so a
2.4 times slower host looked 27 % worse than its code was. A class therefore keeps a
baseline per host speed (recording again within `SAME_SPEED` of one replaces it), and a
run is judged against the one recorded nearest its own speed.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import msgspec

from loadtests.bench_scoring import sum_range_timings

BASELINES = Path(__file__).with_name("baselines.json")
TOLERANCE = 0.15
SAME_SPEED = 1.25  # host speeds within this factor are one host's (a VM drifts a sixth)


class Baseline(msgspec.Struct, frozen=True, omit_defaults=True):
    commit: str
    date: str
    votes_per_busy_core: float
    service_us_per_vote: float
    host_speed_us: float | None = None  # recorded since 2026-12-03; None before


class Verdict(msgspec.Struct, frozen=True):
    host_class: str
    current: float
    baseline: Baseline | None
    host_speed_us: float | None = None

    @property
    def slowdown(self) -> float | None:
        """How many times longer the host took than when the baseline was recorded."""
        if self.baseline is None or not self.baseline.host_speed_us or not self.host_speed_us:
            return None
        return self.host_speed_us / self.baseline.host_speed_us

    @property
    def adjusted(self) -> float:
        """This run's votes per busy core at the baseline's host speed."""
        return self.current * (self.slowdown or 1.0)

    @property
    def floor(self) -> float | None:
        return None if self.baseline is None else self.baseline.votes_per_busy_core * (
            1 - TOLERANCE)

    @property
    def ok(self) -> bool:
        floor = self.floor
        return floor is None or self.adjusted >= floor

    def line(self) -> str:
        if self.baseline is None:
            return (f"regression guard: no baseline for host class '{self.host_class}' "
                    f"(this run: {self.current:,.0f} votes/s per busy core; "
                    "record one with --record-baseline)")
        base = self.baseline
        change = self.current / base.votes_per_busy_core - 1
        text = (f"regression guard: {self.current:,.0f} votes/s per busy core vs baseline "
                f"{base.votes_per_busy_core:,.0f} ({base.commit}, {base.date}) on "
                f"'{self.host_class}': {change:+.0%}")
        slowdown = self.slowdown
        if slowdown is not None:
            pace = (f"{slowdown - 1:.0%} slower" if slowdown >= 1
                    else f"{1 - slowdown:.0%} faster")
            text += (f"; the host ran {pace} than then (sum(range(1000)) "
                     f"{self.host_speed_us:.2f} vs {base.host_speed_us:.2f} µs), so at its "
                     f"speed {self.adjusted / base.votes_per_busy_core - 1:+.0%}")
        elif not base.host_speed_us:
            text += ("; the baseline has no host speed, so a slower host of the class is "
                     "not allowed for (re-record it on this host with --record-baseline)")
        return text + (" — ok" if self.ok else f" — FAILED: more than {TOLERANCE:.0%} below")


def host_speed_us(samples: int = 20_000) -> float:
    """How long `sum(range(1000))` takes on this host now, in µs: the median of `samples`
    timings (about 0.2 s). The median, not the best: a moment when the host gives this
    VM less CPU slows the service too, and the best timing would not show it."""
    return statistics.median(sum_range_timings(samples)) * 1e6


def host_class(facts: dict[str, str]) -> str:
    return f"{facts['cores']} cores, {facts['cpu']}"


def votes_per_busy_core(headline: dict[str, Any]) -> float | None:
    """1 s of CPU over the CPU one accepted single vote costs (service + stores)."""
    per_vote = headline.get("cpu_per_vote_us")
    if not per_vote:
        return None
    total = sum(per_vote.values())
    return 1e6 / total if total else None


def load_baselines(path: Path = BASELINES) -> dict[str, list[Baseline]]:
    """Each host class's baselines, fastest host first (a file of one per class reads)."""
    if not path.is_file():
        return {}
    raw = msgspec.json.decode(path.read_bytes(), type=dict[str, Baseline | list[Baseline]])
    return {cls: entry if isinstance(entry, list) else [entry] for cls, entry in raw.items()}


def nearest(baselines: list[Baseline], speed_us: float | None) -> Baseline | None:
    """The baseline recorded at the host speed nearest `speed_us` (by ratio)."""
    if not baselines:
        return None
    timed = [b for b in baselines if b.host_speed_us]
    if not timed or not speed_us:
        return baselines[0]
    return min(timed, key=lambda b: abs(math.log(speed_us / (b.host_speed_us or 1.0))))


def judge(headline: dict[str, Any], facts: dict[str, str],
          path: Path = BASELINES) -> Verdict | None:
    current = votes_per_busy_core(headline)
    if current is None:
        return None
    cls = host_class(facts)
    speed = headline.get("host_speed_us")
    return Verdict(cls, current, nearest(load_baselines(path).get(cls, []), speed), speed)


def record_baseline(headline: dict[str, Any], facts: dict[str, str],
                    path: Path = BASELINES) -> Baseline | None:
    """This run becomes its host class's baseline at its host speed: it replaces one
    recorded within `SAME_SPEED` of it, and any recorded without a speed."""
    current = votes_per_busy_core(headline)
    if current is None:
        return None
    baselines = load_baselines(path)
    speed = headline.get("host_speed_us")
    entry = Baseline(facts["commit"], facts["date"], round(current, 1),
                     round(headline["cpu_per_vote_us"]["service"], 1),
                     None if speed is None else round(speed, 3))
    cls = host_class(facts)
    kept = [b for b in baselines.get(cls, []) if speed and b.host_speed_us
            and max(speed, b.host_speed_us) / min(speed, b.host_speed_us) > SAME_SPEED]
    baselines[cls] = sorted([*kept, entry], key=lambda b: b.host_speed_us or 0.0)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(baselines), indent=1) + b"\n")
    return entry
