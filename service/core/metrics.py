"""Prometheus metrics. With several worker processes, PROMETHEUS_MULTIPROC_DIR makes
`/metrics` aggregate all of them (set by `silkvote serve --workers N`)."""

from __future__ import annotations

import functools
import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Histogram(
    "silkvote_http_request_seconds", "HTTP request latency by route and status",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
VOTES = Counter("silkvote_votes_total", "Audience votes by outcome", ["outcome"])


@functools.cache
def votes(outcome: str) -> Any:
    """The vote counter of one outcome. Outcomes are a handful of fixed codes, so the
    labelled child is looked up once, not on every vote (a lock and a dict per call)."""
    return VOTES.labels(outcome)


VOTES_BY_SOURCE = Counter(
    "silkvote_votes_by_source_total", "Audience votes by where they came from (app: single "
    "votes; aggregator: batches) and outcome", ["source", "outcome"],
)


@functools.cache
def votes_from(source: str, outcome: str) -> Any:
    """The by-source vote counter of one (source, outcome): resolved once, as `votes`."""
    return VOTES_BY_SOURCE.labels(source, outcome)


RATE_LIMITED = Counter(
    "silkvote_rate_limited_total", "Requests refused 429 rate_limited, by limit", ["limit"],
)


@functools.cache
def rate_limited(limit: str) -> Any:
    """The refusal counter of one limit (ip, voter, jury-login)."""
    return RATE_LIMITED.labels(limit)


for _limit in ("ip", "voter", "jury-login"):  # exported at 0 from the start, so that
    rate_limited(_limit)                     # rate() sees the first refusal of a show

WINDOW_OPEN_SEEN = Gauge(
    "silkvote_window_open_seen_timestamp_seconds", "When the reconciler last saw the "
    "contest's voting window open (Unix time): recent while it is open, also when the "
    "reconciling process changes", ["contest"], multiprocess_mode="max",
)
COMMIT_BATCH_SIZE = Histogram(
    "silkvote_commit_batch_votes", "Votes written per ledger transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 10000),
)
COMMIT_SECONDS = Histogram(
    "silkvote_commit_seconds", "Duration of one ledger transaction",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
COMMIT_CUT_EARLY_SECONDS = Counter(
    "silkvote_commit_cut_early_seconds", "Time the group committer had a core to spare and "
    "cut batches early, writing up to 3 at once (the rest of the time: one write at a time)",
)
TALLY_DRIFT = Gauge(
    "silkvote_tally_drift_votes", "Votes by which live tallies differed from the ledger "
    "at the last reconciliation (repaired then)", ["contest"], multiprocess_mode="max",
)
LEDGER_FAILURES = Counter(
    "silkvote_ledger_failures_total", "Ledger writes that failed (answered 503, nothing counted)"
)
TALLY_FAILURES = Counter(
    "silkvote_tally_failures_total", "Tally updates that failed after a commit (repaired later)"
)
TALLY_REPAIRS = Counter("silkvote_tally_repairs_total", "Tally cells repaired by the reconciler")
VOIDED_VOTES = Counter("silkvote_voided_votes_total",
                       "Votes taken out of the count by a scrutineer's void")
WS_CLIENTS = Gauge("silkvote_ws_clients", "Connected leaderboard websocket clients",
                   multiprocess_mode="livesum")
GC_FROZEN = Gauge(
    "silkvote_gc_frozen", "1 while long-lived objects are kept out of full garbage "
    "collections (see service/live/heap.py)",
    multiprocess_mode="livemax",
)
WS_DROPPED = Counter("silkvote_ws_dropped_total", "Websocket clients dropped for falling behind")
LEADERBOARD_REFRESH_SECONDS = Histogram(
    "silkvote_leaderboard_refresh_seconds", "Reading and scoring the live standings of a contest",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
LEADERBOARD_FANOUT_SECONDS = Histogram(
    "silkvote_leaderboard_fanout_seconds", "Handing one update to every websocket client "
    "of a contest in this process",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


def render() -> tuple[bytes, str]:
    """The exposition text for this process, or for all workers in multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
