"""Percentiles and Prometheus histogram deltas, the only statistics the report needs.

Commit batch sizes come from the service's own histogram, scraped before and after a
phase: the difference is what that phase did, whatever ran before it.
"""

from __future__ import annotations

import math
import re


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def parse_histogram(metrics_text: str, name: str) -> dict[float, float]:
    """Cumulative bucket counts of a Prometheus histogram, summed over label sets."""
    buckets: dict[float, float] = {}
    pattern = re.compile(rf'^{name}_bucket\{{(.*?)le="([^"]+)"(.*?)\}} ([0-9.e+-]+)$')
    for line in metrics_text.splitlines():
        match = pattern.match(line)
        if match:
            le = math.inf if match.group(2) == "+Inf" else float(match.group(2))
            buckets[le] = buckets.get(le, 0.0) + float(match.group(4))
    return buckets


def parse_counter(metrics_text: str, name: str) -> float:
    """A Prometheus counter's value, summed over label sets (0 when it is absent)."""
    pattern = re.compile(rf'^{name}_total(\{{.*?\}})? ([0-9.e+-]+)$')
    return sum(float(m.group(2)) for m in map(pattern.match, metrics_text.splitlines()) if m)


def bucket_counts(before: dict[float, float], after: dict[float, float]
                  ) -> list[tuple[float, int]]:
    """Per-bucket (non-cumulative) counts of what happened between two scrapes."""
    result = []
    previous = 0.0
    for le in sorted(after):
        cumulative = after[le] - before.get(le, 0.0)
        result.append((le, round(cumulative - previous)))
        previous = cumulative
    return result
