"""Earlier benchmark runs, one row each, so a report can be read against other hosts.

Machines of the same size (2 cores, 24 GiB) have differed by 4x in how many `/healthz`
requests they answer. A target met on a fast host can be missed on a slow one with the
same code, so each full bench run adds its headline to `bench-history.json`
next to the plots, and the report lists every run with its `/healthz` yardstick.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

HISTORY_FILE = "bench-history.json"


class RunRecord(msgspec.Struct, frozen=True):
    """The headline of one full bench run."""

    date: str
    commit: str
    healthz_rps: float | None
    vote_ratio: float | None
    paced_p99_ms: float | None
    batch_votes_per_s: float | None
    ws_p99_ms: dict[str, float]  # by the service's worker count ("1", "2")


def load_history(path: Path) -> list[RunRecord]:
    if not path.is_file():
        return []
    return msgspec.json.decode(path.read_bytes(), type=list[RunRecord])


def record_run(path: Path, run: RunRecord) -> list[RunRecord]:
    """Every run so far, oldest first, with `run` added (a re-written report adds none)."""
    runs = [r for r in load_history(path) if (r.date, r.commit) != (run.date, run.commit)]
    runs.append(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(runs), indent=1) + b"\n")
    return runs


def history_section(runs: list[RunRecord]) -> list[str]:
    """Markdown: every run, newest first."""
    if not runs:
        return []
    workers = sorted({w for run in runs for w in run.ws_p99_ms}, key=int)
    ws_head = " / ".join(f"{w} w" for w in workers)
    lines = [
        "## The same bench on other hosts", "",
        "Each full run adds its row (`docs/img/bench-history.json`). Hosts of the same size "
        "differ: the `/healthz` column tells them apart, so compare a run with its own "
        "yardstick before comparing it with another run.", "",
        f"| date | commit | `/healthz` req/s | votes / `/healthz` | p99 at half rate | "
        f"batch votes/s | websocket p99 ({ws_head}) |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in reversed(runs):
        ws = " / ".join(_figure(run.ws_p99_ms.get(w), "{:,.0f}") for w in workers)
        lines.append(f"| {run.date} | `{run.commit}` | {_figure(run.healthz_rps, '{:,.0f}')} | "
                     f"{_figure(run.vote_ratio, '{:.0%}')} | "
                     f"{_figure(run.paced_p99_ms, '{:.1f} ms')} | "
                     f"{_figure(run.batch_votes_per_s, '{:,.0f}')} | {ws} ms |")
    return [*lines, ""]


def _figure(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)
