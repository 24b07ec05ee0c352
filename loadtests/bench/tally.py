"""What crosses between the bench and its generator processes: the order and the count.

Generator processes are spawned, so what they are told (`LoadSpec`) and what they
report (`Tally`) must pickle, and the reports of several processes (and of the slices
of one phase) must add up into one.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Tally:
    """What one generator process saw in one phase."""

    statuses: Counter[int] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)  # completions by second
    accepted_per_second: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: int = 0
    cpu_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def answered(self, status: int, since: float, spec: LoadSpec) -> float:
        """Count one answered request sent (or, open-loop, scheduled) at `since`; the time
        of the answer."""
        done = time.time()
        self.statuses[status] += 1
        self.per_second[second_of(done, spec)] += 1
        self.latencies.append(done - since)
        return done

    def merge(self, other: Tally) -> None:
        self.statuses.update(other.statuses)
        self.per_second.update(other.per_second)
        self.accepted_per_second.update(other.accepted_per_second)
        self.latencies += other.latencies
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.errors += other.errors
        self.cpu_s += other.cpu_s
        for key, value in other.extra.items():
            mine = self.extra.get(key)
            if isinstance(value, dict) and isinstance(mine, dict):
                for k, v in value.items():
                    if isinstance(v, list) and isinstance(mine.get(k), list):
                        mine[k] = mine[k] + v
                    elif isinstance(v, int) and isinstance(mine.get(k), int):
                        mine[k] += v
                    else:
                        mine.setdefault(k, v)
            elif (isinstance(value, list) and isinstance(mine, list)) or (
                    isinstance(value, int | float) and isinstance(mine, int | float)):
                self.extra[key] += value
            else:
                self.extra.setdefault(key, value)


@dataclass(frozen=True)
class LoadSpec:
    """One generator process's share of a phase (picklable)."""

    kind: str  # healthz | vote | batch | ws | ws_votes
    host: str
    port: int
    start_at: float  # wall clock; every process starts together
    duration_s: float
    connections: int
    worker: int
    contest: str = ""
    signing_secret: str = ""
    countries: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    rate: float = 0.0  # requests/s of this process for open-loop phases (0 = closed loop)
    token: str = ""
    tag: str = ""
    resend_every: int = 0


def second_of(now: float, spec: LoadSpec) -> int:
    """The second of the phase `now` falls in, for the per-second series."""
    return int(now - spec.start_at)
