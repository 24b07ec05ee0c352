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
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import msgspec

from loadtests.bench_scoring import sum_range_timings

BASELINES = Path(__file__).with_name("baselines.json")
TOLERANCE = 0.15


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


def load_baselines(path: Path = BASELINES) -> dict[str, Baseline]:
    if not path.is_file():
        return {}
    return msgspec.json.decode(path.read_bytes(), type=dict[str, Baseline])


def judge(headline: dict[str, Any], facts: dict[str, str],
          path: Path = BASELINES) -> Verdict | None:
    current = votes_per_busy_core(headline)
    if current is None:
        return None
    cls = host_class(facts)
    return Verdict(cls, current, load_baselines(path).get(cls), headline.get("host_speed_us"))


def record_baseline(headline: dict[str, Any], facts: dict[str, str],
                    path: Path = BASELINES) -> Baseline | None:
    """This run becomes its host class's baseline."""
    current = votes_per_busy_core(headline)
    if current is None:
        return None
    baselines = load_baselines(path)
    speed = headline.get("host_speed_us")
    entry = Baseline(facts["commit"], facts["date"], round(current, 1),
                     round(headline["cpu_per_vote_us"]["service"], 1),
                     None if speed is None else round(speed, 3))
    baselines[host_class(facts)] = entry
    path.write_bytes(msgspec.json.format(msgspec.json.encode(baselines), indent=1) + b"\n")
    return entry
