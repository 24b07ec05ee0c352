"""A baseline run of an earlier commit, on this host, for the report's before/after table.

Why run it here rather than quote an old report: hosts of the same size differ by up to
4x, so "half the CPU per vote" means something only against a run on the same host. The
earlier commit is cloned from this repository into `var/bench-baseline/<commit>` and its
own bench runs there with the same options (it must have `python -m loadtests.bench`);
its headline comes back through the `bench-results.json` it writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from service.core.config import REPO_ROOT


def run_baseline(commit: str, options: list[str]) -> tuple[str, dict[str, Any]]:
    """(short commit, headline) of `commit`'s bench run with `options`."""
    short = subprocess.run(["git", "rev-parse", "--short", commit], cwd=REPO_ROOT, check=True,
                           capture_output=True, text=True).stdout.strip()
    home = REPO_ROOT / "var" / "bench-baseline" / short
    checkout = home / "src"
    if not (checkout / ".git").exists():
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO_ROOT),
                        str(checkout)], check=True)
        subprocess.run(["git", "checkout", "--quiet", short], cwd=checkout, check=True)
    out = home / "out"
    subprocess.run([sys.executable, "-m", "loadtests.bench", *options, "--out", str(out)],
                   cwd=checkout, check=False)
    results = out / "img" / "bench-results.json"
    if not results.is_file():
        raise RuntimeError(f"the baseline run of {short} wrote no {results}")
    headline: dict[str, Any] = json.loads(results.read_text())["headline"]
    return short, headline


def comparison_section(commit: str, before: dict[str, Any], after: dict[str, Any]
                       ) -> list[str]:
    """Markdown: the baseline's headline and this run's, side by side."""
    def ratio(h: dict[str, Any], rps: str, yard: str) -> float | None:
        return h[rps] / h[yard] if h.get(rps) and h.get(yard) else None

    def cpu(h: dict[str, Any], part: str) -> float | None:
        return (h.get("cpu_per_vote_us") or {}).get(part)

    def per_core(h: dict[str, Any]) -> float | None:
        total = sum((h.get("cpu_per_vote_us") or {}).values())
        return 1e6 / total if total else None

    rows: list[tuple[str, Any, str]] = [
        ("`/healthz` req/s (1 worker)", lambda h: h.get("healthz_rps"), "{:,.0f}"),
        ("single votes/s (1 worker)", lambda h: h.get("vote_rps"), "{:,.0f}"),
        ("votes / `/healthz` (1 worker)", lambda h: h.get("ratio"), "{:.0%}"),
        ("votes / `/healthz` (2 workers)",
         lambda h: ratio(h, "vote_rps_2w", "healthz_rps_2w"), "{:.0%}"),
        ("service CPU per single vote", lambda h: cpu(h, "service"), "{:.0f} µs"),
        ("PostgreSQL CPU per single vote", lambda h: cpu(h, "postgres"), "{:.0f} µs"),
        ("Redis CPU per single vote", lambda h: cpu(h, "redis"), "{:.1f} µs"),
        ("votes/s per busy core", per_core, "{:,.0f}"),
        ("p99 at half rate", lambda h: h.get("paced_p99_ms"), "{:.1f} ms"),
        ("batch votes/s", lambda h: h.get("batch_votes_per_s"), "{:,.0f}"),
    ]
    lines = ["## Against the baseline (same host, same run)", "",
             f"The bench of commit `{commit}` ran first on this host with the same options "
             "(`--baseline-commit`), then this commit's.", "",
             f"| measure | baseline `{commit}` | this commit | change |", "|---|---|---|---|"]
    for label, read, pattern in rows:
        old, new = read(before), read(after)
        change = f"{new / old - 1:+.0%}" if old and new else "–"
        lines.append(f"| {label} | {_fmt(old, pattern)} | {_fmt(new, pattern)} | {change} |")
    return [*lines, ""]


def _fmt(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)
