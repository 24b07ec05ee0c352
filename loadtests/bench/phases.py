"""What one phase measured, as the report and the plots read it.

A phase run in slices (`/healthz` and votes take turns) is joined back into one
result, so the tables show one row per phase whatever the slicing.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loadtests.bench.stats import percentile
from loadtests.bench.tally import Tally


@dataclass
class PhaseResult:
    name: str
    label: str
    kind: str
    workers: int
    started: float
    duration_s: float
    tally: Tally
    cpu: dict[str, float]
    rss: dict[str, int] = field(default_factory=dict)
    commit_batches: list[tuple[float, int]] = field(default_factory=list)
    contest: str = ""
    cut_early_s: float = 0.0  # service processes' seconds writing up to 3 batches at once

    @property
    def rate(self) -> float:
        """Completed requests per second over the steady part of the phase."""
        return sum(self.tally.statuses.values()) / self.duration_s

    @property
    def votes_per_s(self) -> float:
        return self.tally.accepted / self.duration_s

    def cpu_per_vote_us(self) -> dict[str, float]:
        accepted = max(self.tally.accepted, 1)
        return {name: seconds / accepted * 1e6 for name, seconds in self.cpu.items()}

    @classmethod
    def joined(cls, slices: list[PhaseResult]) -> PhaseResult:
        """One phase from slices of it run at different times (sums; peak memory)."""
        first = slices[0]
        tally = Tally()
        cpu: Counter[str] = Counter()
        rss: dict[str, int] = {}
        batches: Counter[float] = Counter()
        cut_early_s = 0.0
        for part in slices:
            cut_early_s += part.cut_early_s
            tally.merge(part.tally)
            cpu.update(part.cpu)
            for name, size in part.rss.items():
                rss[name] = max(rss.get(name, 0), size)
            batches.update(dict(part.commit_batches))
        return cls(first.name, first.label, first.kind, first.workers, first.started,
                   sum(part.duration_s for part in slices), tally, dict(cpu), rss,
                   sorted(batches.items()), first.contest, cut_early_s)

    def summary(self) -> dict[str, Any]:
        lat = self.tally.latencies
        return {
            "name": self.name, "label": self.label, "workers": self.workers,
            "duration_s": round(self.duration_s, 2), "requests": sum(self.tally.statuses.values()),
            "rate": round(self.rate, 1), "accepted": self.tally.accepted,
            "accepted_per_s": round(self.votes_per_s, 1),
            "statuses": {str(k): v for k, v in sorted(self.tally.statuses.items())},
            "errors": self.tally.errors,
            "latency_ms": {f"p{q}": round(percentile(lat, q) * 1000, 2)
                           for q in (50, 90, 99, 99.9)} | {
                               "max": round(max(lat, default=math.nan) * 1000, 2)},
            "cpu_s": {k: round(v, 3) for k, v in self.cpu.items()},
            "generator_cpu_s": round(self.tally.cpu_s, 3),
            "commit_batches": self.commit_batches,
            "cut_early_s": round(self.cut_early_s, 2),
        }


@dataclass
class WsResult:
    workers: int
    clients: int
    connected: int
    connect_s: float
    updates: int
    delays: list[float]
    drops: dict[int, int]
    cpu_percent: float
    rss_mb: float
    votes: int
    per_update_clients: float
