"""The report's PNG plots: throughput over the run, latency percentiles, batch sizes.

Throughput is drawn second by second over the whole run, so a drift of the host's
speed, or a stall, shows where a table would only show an average.
"""

from __future__ import annotations

import math
from pathlib import Path

from loadtests.bench.plan import PACED_P99_TARGET_MS
from loadtests.bench.runner import Bench
from loadtests.bench.stats import percentile


def write_plots(bench: Bench, img_dir: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img_dir.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    colors = {"healthz": "#8c8c8c", "ping": "#bcbd22", "vote": "#1f77b4", "vote_rate": "#2ca02c",
              "batch": "#d62728"}

    # 1. throughput over time
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    labelled: set[str] = set()
    for p in bench.timeline:
        series = p.tally.accepted_per_second if p.kind == "batch" else p.tally.per_second
        xs = [s for s in sorted(series) if 0 <= s < p.duration_s]
        ys = [series[s] for s in xs]
        axis = bottom if p.kind == "batch" else top
        axis.plot([p.started + s + 0.5 for s in xs], ys, marker="o", ms=3,
                  color=colors.get(p.kind, "k"),
                  label="_nolegend_" if p.label in labelled else p.label,
                  linestyle="--" if p.workers > 1 else "-")
        labelled.add(p.label)
    top.set_ylabel("requests per second")
    top.set_title("Throughput over the run (one point per second)")
    top.legend(fontsize=8, loc="best")
    top.grid(alpha=0.3)
    bottom.set_ylabel("durable votes per second")
    bottom.set_xlabel("seconds since the bench started")
    bottom.axhline(50_000, color="#d62728", alpha=0.4, linestyle=":", label="target 50,000/s")
    bottom.legend(fontsize=8, loc="best")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(img_dir / "bench-throughput.png", dpi=110)
    plt.close(fig)
    names["throughput"] = "bench-throughput.png"

    # 2. latency percentiles
    quantiles: list[float] = [50, 90, 99, 99.9]
    series_lat: list[tuple[str, list[float]]] = [
        (p.label, p.tally.latencies) for p in bench.phases if p.tally.latencies]
    series_lat += [(f"websocket update delay ({ws.workers} w)", ws.delays)
                   for ws in bench.ws_runs if ws.delays]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.8 / max(len(series_lat), 1)
    for i, (label, values) in enumerate(series_lat):
        heights = [percentile(values, q) * 1000 for q in quantiles]
        lefts = [j + i * width for j in range(len(quantiles))]
        bars = ax.bar(lefts, heights, width, label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=6, padding=1)
    ax.set_xticks([q + width * (len(series_lat) - 1) / 2 for q in range(len(quantiles))],
                  [f"p{q:g}" for q in quantiles])
    ax.set_yscale("log")
    ax.set_ylabel("milliseconds (log scale)")
    ax.axhline(PACED_P99_TARGET_MS, color="#2ca02c", linestyle=":", alpha=0.7,
               label=f"half-rate vote p99 target {PACED_P99_TARGET_MS:g} ms")
    ax.axhline(1000, color="#9467bd", linestyle=":", alpha=0.7, label="websocket target 1 s")
    ax.set_title("Latency percentiles by phase (batch = one 10,000-vote request)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(img_dir / "bench-latency.png", dpi=110)
    plt.close(fig)
    names["latency"] = "bench-latency.png"

    # 3. commit batch sizes
    fig, ax = plt.subplots(figsize=(10, 4))
    shown = [p for p in bench.phases if p.kind in ("vote", "vote_rate")
             and any(n for _, n in p.commit_batches)]
    width = 0.8 / max(len(shown), 1)
    labels: list[str] = []
    for i, p in enumerate(shown):
        buckets = p.commit_batches
        labels = [f"≤{le:g}" if not math.isinf(le) else ">10000" for le, _ in buckets]
        total = sum(n for _, n in buckets) or 1
        ax.bar([j + i * width for j in range(len(buckets))],
               [n / total * 100 for _, n in buckets], width, label=p.label)
    ax.set_xticks([j + width * (len(shown) - 1) / 2 for j in range(len(labels))], labels,
                  fontsize=8)
    ax.set_xlabel("votes per ledger transaction (group commit)")
    ax.set_ylabel("% of transactions")
    ax.set_title("Commit batch sizes of the single-vote endpoint")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(img_dir / "bench-batch-sizes.png", dpi=110)
    plt.close(fig)
    names["batches"] = "bench-batch-sizes.png"
    return names
