"""`python -m loadtests.bench`: throughput and latency of the real service on this machine.

The bench is a development tool, not part of what ships: it needs the test harness
(stores and a served app, `tests/harness`), matplotlib and a repository checkout, so it
lives beside the Locust scenarios rather than in the `silkvote` command. Its options
are those `silkvote bench` had. The report goes to `docs/benchmarks.md` with its plots
in `docs/img/`; a quick run writes to `var/bench-quick/` so it never replaces them.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from loadtests.bench.plan import Plan
from service.core.config import REPO_ROOT


def run_bench(plan: Plan, out_dir: Path, baseline: tuple[str, dict[str, Any]] | None = None,
              record: bool = False) -> int:
    """Run, print a summary, write the report; 1 if the ledger check or the regression
    guard failed."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from loadtests.bench.guard import judge, record_baseline
    from loadtests.bench.report import machine_facts, write_report
    from loadtests.bench.runner import Bench

    console = Console(stderr=True)
    with Progress(TextColumn("[progress.description]{task.description:<40}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  console=console) as progress:
        bench = Bench(plan, out_dir, progress)
        bench.baseline = baseline
        bench.run()
    facts = machine_facts()
    h = bench.headline()
    verdict = judge(h, facts)
    bench.guard_line = verdict.line() if verdict else ""
    page = write_report(bench, out_dir)
    console.print(f"\nwrote [bold]{page}[/bold] and plots in {out_dir / 'img'}")
    if "ratio" in h:
        console.print(f"healthz {h['healthz_rps']:,.0f} req/s · ping {h.get('ping_rps', 0):,.0f}"
                      f" req/s · votes {h['vote_rps']:,.0f}/s "
                      f"({h['ratio']:.0%}) · p99 at half rate {h.get('paced_p99_ms', 0):.1f} ms"
                      f" · batch {h.get('batch_votes_per_s', 0):,.0f} votes/s"
                      + (f" · ws p99 {h['ws_p99_ms']:,.0f} ms" if "ws_p99_ms" in h else ""))
    status = 0
    if verdict is not None:
        console.print(verdict.line())
        if not verdict.ok and not plan.quick:
            status = 1
    if record and not plan.quick:
        entry = record_baseline(h, facts)
        if entry:
            console.print(f"recorded as the baseline of this host class: {entry}")
    if not h["ledger_ok"]:
        console.print("[red]the ledger does not hold exactly the acknowledged votes[/red]")
        return 1
    return status


@click.command()
@click.option("--quick", is_flag=True,
              help="≈30 s smoke run with short phases; writes to var/bench-quick/ by default.")
@click.option("--duration", type=float, default=None, metavar="SECONDS",
              help="Length of each throughput phase (default 20, or 2.5 with --quick).")
@click.option("--concurrency", type=int, default=64, show_default=True,
              help="Connections for the /healthz and single-vote phases.")
@click.option("--ws-clients", type=int, default=None,
              help="Websocket subscribers (default 10,000, or 300 with --quick).")
@click.option("--two-workers/--one-worker", default=None,
              help="Also measure /healthz and votes with 2 worker processes (full run: on).")
@click.option("--out", "out_dir", type=click.Path(), default=None,
              help="Folder for benchmarks.md and img/ (default: docs/).")
@click.option("--baseline-commit", default=None, metavar="REV",
              help="First run REV's own bench on this host (same options) and put both "
                   "runs side by side in the report.")
@click.option("--record-baseline", is_flag=True,
              help="Make this run the regression guard's baseline for this host class at "
                   "this host speed (loadtests/bench/baselines.json).")
def main(quick: bool, duration: float | None, concurrency: int, ws_clients: int | None,
         two_workers: bool | None, out_dir: str | None, baseline_commit: str | None,
         record_baseline: bool) -> None:
    """Measure intake and live-hub speed against real stores; write docs/benchmarks.md."""
    plan = Plan.quick_plan() if quick else Plan()
    changes: dict[str, Any] = {"concurrency": concurrency}
    if duration is not None:
        changes["phase_s"] = duration
    if ws_clients is not None:
        changes["ws_clients"] = ws_clients
    if two_workers is not None:
        changes["two_workers"] = two_workers
    plan = dataclasses.replace(plan, **changes)
    default_out = REPO_ROOT / ("var/bench-quick" if quick else "docs")
    baseline = None
    if baseline_commit:
        from loadtests.bench.baseline import run_baseline

        options = [arg for arg, on in (("--quick", quick),) if on]
        options += ["--concurrency", str(concurrency)]
        options += ["--duration", str(duration)] if duration is not None else []
        options += ["--ws-clients", str(ws_clients)] if ws_clients is not None else []
        if two_workers is not None:
            options.append("--two-workers" if two_workers else "--one-worker")
        baseline = run_baseline(baseline_commit, options)
    sys.exit(run_bench(plan, Path(out_dir) if out_dir else default_out, baseline,
                       record_baseline))


if __name__ == "__main__":
    main()
