"""The report page, `benchmarks.md`: headline against targets, then the detail.

Every figure is printed next to the machine it came from (cores, CPU, load average,
commit) and to the `/healthz` yardstick of the same run, because hosts of the same
size differ by several times. The page is shared: the scoring engine's section, written
by `loadtests/bench_scoring.py`, survives a rewrite.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from loadtests.bench.baseline import comparison_section
from loadtests.bench.history import HISTORY_FILE, RunRecord, history_section, record_run
from loadtests.bench.phases import WsResult
from loadtests.bench.plan import PACED_P99_TARGET_MS, Plan
from loadtests.bench.plots import write_plots
from loadtests.bench.runner import Bench
from loadtests.bench.stats import percentile
from service.core.config import REPO_ROOT

SCORING_HEADING = "## Scoring engine"
CACHE_HEADING = "## Results behind a cache"
#: Sections other benches write into the page; a rewrite of the page keeps them.
SEAL_HEADING = "## Sealing, exporting and auditing"  # loadtests/bench/seal.py
KEPT_HEADINGS = (SCORING_HEADING, CACHE_HEADING, SEAL_HEADING)


def machine_facts() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 2**20:.0f} GiB"

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return {"cores": str(os.cpu_count()), "cpu": model, "memory": memory,
            "kernel": platform.release(), "python": platform.python_version(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit}


def _fmt_ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def _verdict(ok: bool) -> str:
    return "✅ met" if ok else "❌ missed"


def render_report(bench: Bench, facts: dict[str, str], images: dict[str, str],
                  img_prefix: str, history: list[RunRecord] | None = None) -> str:
    h = bench.headline()
    plan = bench.plan
    lines = [
        "# SilkVote benchmarks",
        "",
        "Written by `python -m loadtests.bench`" + (" --quick (short phases: indicative only)"
                                                    if plan.quick else "") +
        ". Re-run it to refresh this page; the [scaling model](scaling.md) is built on "
        "the per-vote CPU cost measured here.",
        "",
        f"**Machine:** {facts['cores']} cores ({facts['cpu']}), {facts['memory']} RAM, "
        f"Linux {facts['kernel']}, Python {facts['python']} · **date** {facts['date']} · "
        f"**commit** `{facts['commit']}`  ",
        f"**Stores:** {bench.stores_desc}, on the same machine.  ",
        f"**Generator:** the bench's own asyncio HTTP/1.1 keep-alive and websocket clients "
        f"(raw protocols on uvloop) in {plan.generator_procs} separate processes. "
        "Generator, service, PostgreSQL and Redis all share the same "
        f"{facts['cores']} cores, so every figure is a lower bound on what the service does "
        "with a machine to itself; the `/healthz` figure from the same generator, "
        "concurrency and server is the yardstick.  ",
        f"**Load average** before/after the run: "
        f"{' / '.join(f'{x:.1f}' for x in bench.load_before)} → "
        f"{' / '.join(f'{x:.1f}' for x in bench.load_after)} "
        "(other work on the machine shows up here)"
        + (f"; `sum(range(1000))` took {h['host_speed_us']:.2f} µs (median, timed beside "
           "the vote slices: the host's speed for the regression guard)."
           if "host_speed_us" in h else "."),
        "",
        "## Headline",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
    ]
    if "ratio" in h:
        lines.append(f"| `/healthz` throughput, {plan.concurrency} connections, 1 worker | "
                     f"{h['healthz_rps']:,.0f} req/s | yardstick | |")
        if "ping_rps" in h:
            lines.append(f"| `/livez` (ping: no I/O) throughput, same | {h['ping_rps']:,.0f} "
                         f"req/s ({h['ratio'] * h['healthz_rps'] / h['ping_rps']:.0%} for "
                         "votes) | floor of the server | |")
        lines.append(f"| single-vote throughput, same concurrency | {h['vote_rps']:,.0f} "
                     f"votes/s = **{h['ratio']:.0%} of `/healthz`** | ≥ 80% | "
                     f"{_verdict(h['ratio'] >= 0.8)} |")
    if "paced_p99_ms" in h:
        lines.append(f"| vote latency at half that rate ({h['paced_rate']:,.0f}/s) | "
                     f"p50 {h['paced_p50_ms']:.1f} ms, **p99 {h['paced_p99_ms']:.1f} ms** | "
                     f"p99 ≤ {PACED_P99_TARGET_MS:g} ms | "
                     f"{_verdict(h['paced_p99_ms'] <= PACED_P99_TARGET_MS)} |")
    if "batch_votes_per_s" in h:
        lines.append(f"| batch endpoint, 10,000-vote batches, "
                     f"{plan.batch_connections * plan.generator_procs} concurrent | "
                     f"**{h['batch_votes_per_s']:,.0f} durable votes/s** | ≥ 50,000/s | "
                     f"{_verdict(h['batch_votes_per_s'] >= 50_000)} |")
    for ws in bench.ws_runs:
        p99 = percentile(ws.delays, 99) * 1000
        lines.append(f"| websocket: {ws.connected:,} subscribers, 2 updates/s, delay vote → "
                     f"update (p99), {ws.workers} worker{'s' if ws.workers > 1 else ''} | "
                     f"**{p99:,.0f} ms** | ≤ 1 s | {_verdict(p99 <= 1000)} |")
    if "cpu_per_vote_us" in h:
        c = h["cpu_per_vote_us"]
        lines.append(f"| CPU per accepted single vote | service {c['service']:.0f} µs, "
                     f"PostgreSQL {c['postgres']:.0f} µs, Redis {c['redis']:.0f} µs | report | |")
    if "cpu_per_batch_vote_us" in h:
        c = h["cpu_per_batch_vote_us"]
        lines.append(f"| CPU per accepted batch vote | service {c['service']:.1f} µs, "
                     f"PostgreSQL {c['postgres']:.1f} µs, Redis {c['redis']:.2f} µs | report | |")
    if "vote_rps_2w" in h:
        share = h['vote_rps_2w'] / h['healthz_rps_2w']
        lines.append(f"| 2 workers: `/healthz` / single votes | {h['healthz_rps_2w']:,.0f} / "
                     f"{h['vote_rps_2w']:,.0f} req/s "
                     f"(**{share:.0%}**) | ≥ 70% | {_verdict(share >= 0.7)} |")
    lines.append(f"| ledger holds exactly the acknowledged votes | "
                 f"{'yes, in every contest' if h['ledger_ok'] else '**NO** — see below'} | "
                 f"exact | {_verdict(h['ledger_ok'])} |")
    if bench.guard_line:
        lines += ["", bench.guard_line.replace("regression guard:", "**Regression guard:**")]
    lines += ["", f"![Throughput over time]({img_prefix}{images['throughput']})", "",
              f"Where a single vote's CPU goes: [flame graph of one service process under "
              f"closed-loop votes]({img_prefix}vote-path-flame.svg) (`python -m "
              f"loadtests.bench.profile`, py-spy; refreshed by that command, not by this "
              f"bench).", ""]
    if bench.baseline is not None:
        lines += comparison_section(bench.baseline[0], bench.baseline[1], h)
    lines += history_section(history or [])
    lines += ["## Phases", "",
              "| phase | duration | requests | rate | accepted | p50 ms | p90 ms | p99 ms | "
              "max ms | statuses | service CPU s | PG CPU s | Redis CPU s | generator CPU s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in bench.phases:
        lat = p.tally.latencies
        rate = (f"{p.votes_per_s:,.0f} votes/s ({p.rate:.1f} batches/s)" if p.kind == "batch"
                else f"{p.rate:,.0f}/s")
        statuses = ", ".join(f"{k}×{v:,}" for k, v in sorted(p.tally.statuses.items()))
        lines.append(
            f"| {p.label} | {p.duration_s:.0f} s | {sum(p.tally.statuses.values()):,} | {rate} | "
            f"{p.tally.accepted:,} | {_fmt_ms(percentile(lat, 50))} | "
            f"{_fmt_ms(percentile(lat, 90))} | {_fmt_ms(percentile(lat, 99))} | "
            f"{_fmt_ms(max(lat, default=math.nan))} | {statuses} | "
            f"{p.cpu.get('service', 0):.1f} | {p.cpu.get('postgres', 0):.1f} | "
            f"{p.cpu.get('redis', 0):.1f} | {p.tally.cpu_s:.1f} |")
    lines += [
        "",
        "Closed-loop phases keep every connection busy (the next request leaves when the "
        "previous answer arrives). "
        + (f"`/healthz` and single votes take turns in {plan.alternations} slices of "
           f"{plan.phase_s / plan.alternations:g} s each, so a drift in the host's speed "
           "weighs on both alike; their rows sum the slices. " if plan.alternations > 1
           else "") +
        "The half-rate phase is open-loop: requests are scheduled "
        "at a fixed rate and latency counts from the *scheduled* time, so a stall is not "
        "hidden by the generator waiting for it. Batch phases re-send every 5th batch "
        "unchanged (counted as duplicates, never twice).",
        "",
        f"![Latency percentiles]({img_prefix}{images['latency']})",
        "",
        "## CPU per accepted vote",
        "",
        "User+system CPU from `/proc/<pid>/stat` of the service process tree, the PostgreSQL "
        "postmaster and its backends, and the Redis server, over the phase, divided by the "
        "votes it accepted. Redis work here is the live tallies and the pub/sub notice (one "
        "script call per commit batch) and the shared rate counters of busy voters.",
        "",
        "| phase | service µs/vote | PostgreSQL µs/vote | Redis µs/vote | total µs/vote | "
        "votes/s per busy core |",
        "|---|---|---|---|---|---|",
    ]
    for p in bench.phases:
        if p.kind in ("vote", "vote_rate", "batch") and p.tally.accepted:
            c = p.cpu_per_vote_us()
            total = sum(c.values())
            lines.append(f"| {p.label} | {c['service']:.1f} | {c['postgres']:.1f} | "
                         f"{c['redis']:.2f} | {total:.1f} | {1e6 / total:,.0f} |")
    lines += ["", "## Commit batch sizes (group commit)", "",
              "From the `silkvote_commit_batch_votes` histogram in `/metrics`, scraped before "
              "and after each phase; the share of the time cut early (a spare core: up to 3 "
              "writes at once) from `silkvote_commit_cut_early_seconds`.", ""]
    for p in bench.phases:
        if p.kind in ("vote", "vote_rate") and p.commit_batches:
            total = sum(n for _, n in p.commit_batches)
            if not total:
                continue
            mean = p.tally.accepted / total if total else 0
            cells = ", ".join(f"≤{le:g}: {n:,}" for le, n in p.commit_batches
                              if n and not math.isinf(le))
            early = p.cut_early_s / (p.duration_s * p.workers) * 100
            lines.append(f"- **{p.label}**: {total:,} transactions, ≈{mean:.1f} votes each "
                         f"({cells}); batches cut early {early:.0f} % of the time")
    lines += ["", f"![Commit batch sizes]({img_prefix}{images['batches']})", ""]
    if bench.ws_runs:
        lines += websocket_section(bench.ws_runs, plan)
    lines += ["## Ledger check", "",
              "After the phases, for every contest the bench voted in: the acknowledged votes "
              "(HTTP 201s, or the `accepted` count of batches) against `SELECT count(*) FROM "
              "votes` for the contest, and `POST …/verify` (live tallies against the ledger).",
              "", "| contest | acknowledged | ledger rows | live tallies | result |",
              "|---|---|---|---|---|"]
    for c in bench.checks:
        lines.append(f"| `{c['contest']}` | {c['acknowledged']:,} | {c['ledger']:,} | "
                     f"{c['live']:,} | {'exact' if c['ok'] else '**MISMATCH**'} |")
    lines += ["", "## Reproduce", "", "```sh",
              "make bench                          # = .venv/bin/python -m loadtests.bench "
              "(5–11 minutes, by host)",
              "python -m loadtests.bench --quick   # ≈30 s smoke run, written to var/bench-quick/",
              "DATABASE_URL=postgresql://… REDIS_URL=redis://… python -m loadtests.bench"
              "  # external stores",
              "```", "",
              "The Locust scenarios in `loadtests/` (see its README) replay realistic show "
              "traffic; this page is the throughput and latency yardstick.", ""]
    if bench.notes:
        lines += ["Notes: " + "; ".join(bench.notes) + ".", ""]
    return "\n".join(lines)


def kept_section(text: str, heading: str) -> str | None:
    """The section under `heading` (to the next `## `), or None."""
    start = text.find(heading)
    if start < 0:
        return None
    rest = text[start:]
    following = re.search(r"^## ", rest[len(heading):], re.M)
    return rest if following is None else rest[:len(heading) + following.start()]


def merge_scoring_section(new_text: str, old_text: str) -> str:
    """Keep the sections other benches wrote (`## Scoring engine`, `## Results behind a
    cache`), each to the next `## `."""
    sections = [s for h in KEPT_HEADINGS if (s := kept_section(old_text, h)) is not None]
    if not sections:
        return new_text
    return new_text.rstrip() + "\n\n" + "\n\n".join(s.rstrip() for s in sections) + "\n"


def websocket_section(runs: list[WsResult], plan: Plan) -> list[str]:
    """The websocket part of the report: one column per server configuration."""
    first = runs[0]
    head = " | ".join(f"{r.workers} worker{'s' if r.workers > 1 else ''}" for r in runs)

    def row(label: str, cell: Callable[[WsResult], str]) -> str:
        return f"| {label} | " + " | ".join(cell(r) for r in runs) + " |"

    def delays(r: WsResult) -> str:
        return " / ".join(_fmt_ms(percentile(r.delays, q)) for q in (50, 90, 99)) + " / " + \
            _fmt_ms(max(r.delays, default=math.nan)) + " ms"

    return [
        "## Live leaderboard websockets", "",
        f"{first.clients:,} subscribers connect (raw websocket clients in "
        f"{plan.generator_procs} processes). Then one voter casts {plan.ws_votes_per_s:g} "
        f"votes/s for {plan.ws_s:g} s, so the board changes before every tick. For each "
        "update the delay is measured from the *send* time of the oldest vote it newly "
        "contains to its arrival at each client — a conservative reading of “commit → "
        "screen”. Clients match updates to votes by the vote counts they show, never by "
        "`seq`, which each service process numbers on its own. With several workers, the "
        "operating system spreads the connections over the processes and each one "
        "broadcasts to its own share.", "",
        f"| measure | {head} |", "|---|" + "---|" * len(runs),
        row("connected", lambda r: f"{r.connected:,} in {r.connect_s:.1f} s"),
        row("updates per client (mean)", lambda r: str(r.updates)),
        row("deliveries measured", lambda r: f"{len(r.delays):,}"),
        row("delay p50 / p90 / p99 / max", delays),
        row("service CPU while updating", lambda r: f"{r.cpu_percent:.0f}% of one core"),
        row("service RSS (peak)", lambda r: f"{r.rss_mb:,.0f} MB"),
        row("clients dropped (close codes)", lambda r: str(r.drops or "none")), "",
        "Each tick the hub scores the standings once, frames them once as a websocket "
        "message and writes the same bytes to every client that keeps up, straight to its "
        "socket (no task, no re-encoding per client), so the cost per client is one "
        "`write()` — see `silkvote_leaderboard_fanout_seconds` in `/metrics`. Each process "
        "keeps its long-lived objects (start-up state, the connections) out of full "
        "garbage collections (`service/live/heap.py`): at 10,000 clients a full "
        "collection otherwise stops the process for about 0.9 s.", "",
    ]


def run_record(bench: Bench, facts: dict[str, str]) -> RunRecord:
    h = bench.headline()
    return RunRecord(
        facts["date"], facts["commit"], h.get("healthz_rps"), h.get("ratio"),
        h.get("paced_p99_ms"), h.get("batch_votes_per_s"),
        {str(ws.workers): percentile(ws.delays, 99) * 1000 for ws in bench.ws_runs})


def write_report(bench: Bench, out_dir: Path) -> Path:
    img_dir = out_dir / "img"
    images = write_plots(bench, img_dir)
    page = out_dir / "benchmarks.md"
    facts = machine_facts()
    history = record_run(img_dir / HISTORY_FILE, run_record(bench, facts))
    text = render_report(bench, facts, images, "img/", history)
    old = page.read_text() if page.is_file() else ""
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(merge_scoring_section(text, old))
    (out_dir / "img" / "bench-results.json").write_text(json.dumps(
        {"headline": bench.headline(), "phases": [p.summary() for p in bench.phases],
         "checks": bench.checks}, indent=1, default=str))
    return page
