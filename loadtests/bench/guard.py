"""The regression guard: single votes per busy core, against this host class's baseline.

Why per busy core: votes/s alone moves with whatever else the machine runs, but the
CPU the service, PostgreSQL and Redis spend per vote does not (much), and "votes per
second per busy core" is its inverse. Hosts of the same size still differ by CPU model,
so baselines are kept per host class (cores and CPU model), in `baselines.json` beside
this file, written by `python -m loadtests.bench --record-baseline`. A full run whose
figure falls more than `TOLERANCE` below its class's baseline exits non-zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

BASELINES = Path(__file__).with_name("baselines.json")
TOLERANCE = 0.15


class Baseline(msgspec.Struct, frozen=True):
    commit: str
    date: str
    votes_per_busy_core: float
    service_us_per_vote: float


class Verdict(msgspec.Struct, frozen=True):
    host_class: str
    current: float
    baseline: Baseline | None

    @property
    def floor(self) -> float | None:
        return None if self.baseline is None else self.baseline.votes_per_busy_core * (
            1 - TOLERANCE)

    @property
    def ok(self) -> bool:
        floor = self.floor
        return floor is None or self.current >= floor

    def line(self) -> str:
        if self.baseline is None:
            return (f"regression guard: no baseline for host class '{self.host_class}' "
                    f"(this run: {self.current:,.0f} votes/s per busy core; "
                    "record one with --record-baseline)")
        change = self.current / self.baseline.votes_per_busy_core - 1
        return (f"regression guard: {self.current:,.0f} votes/s per busy core vs baseline "
                f"{self.baseline.votes_per_busy_core:,.0f} ({self.baseline.commit}, "
                f"{self.baseline.date}) on '{self.host_class}': {change:+.0%} — "
                + ("ok" if self.ok else f"FAILED: more than {TOLERANCE:.0%} below"))


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
    return Verdict(cls, current, load_baselines(path).get(cls))


def record_baseline(headline: dict[str, Any], facts: dict[str, str],
                    path: Path = BASELINES) -> Baseline | None:
    """This run becomes its host class's baseline."""
    current = votes_per_busy_core(headline)
    if current is None:
        return None
    baselines = load_baselines(path)
    entry = Baseline(facts["commit"], facts["date"], round(current, 1),
                     round(headline["cpu_per_vote_us"]["service"], 1))
    baselines[host_class(facts)] = entry
    path.write_bytes(msgspec.json.format(msgspec.json.encode(baselines), indent=1) + b"\n")
    return entry
