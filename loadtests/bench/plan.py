"""How long and how hard a run pushes.

A full run is what the report is written from; its phases are long enough that a
second's hiccup does not move a figure. A quick run only proves that every part works
(a minute on two cores), so its figures are indicative at most.
"""

from __future__ import annotations

from dataclasses import dataclass

CAP = 20  # votes per voter in the bench contests (the default cap)
BATCH_SIZE = 10_000
PACED_P99_TARGET_MS = 20.0  # single votes at half the closed-loop rate (issue 21)


@dataclass(frozen=True)
class Plan:
    """How long and how hard each phase runs."""

    phase_s: float = 20.0
    warmup_s: float = 3.0
    concurrency: int = 64
    alternations: int = 4  # /healthz and single votes take turns in this many slices each
    batch_connections: int = 2
    ws_clients: int = 10_000
    ws_s: float = 30.0
    ws_connect_s: float = 25.0
    ws_votes_per_s: float = 20.0
    generator_procs: int = 2
    two_workers: bool = True
    quick: bool = False

    @classmethod
    def quick_plan(cls) -> Plan:
        return cls(phase_s=2.5, warmup_s=1.0, alternations=1, ws_clients=300, ws_s=3.0,
                   ws_connect_s=2.5, two_workers=False, quick=True)
