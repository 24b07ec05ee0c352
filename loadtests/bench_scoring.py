"""Benchmark of the scoring engine: one ``score()`` of a large final.

A 40-country final: 40 entries, every one of the 40 countries votes with a five-member
jury (full rankings, exponential method) and audience counts, plus a Rest of World (WW)
audience. Reports the median and p99 time per ``score()`` call (validation included).
Target: under 5 ms. Run: ``.venv/bin/python loadtests/bench_scoring.py [--write-docs]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import string
import sys
import time
from pathlib import Path

from scoring import CountryVote, Entry, Sheet, score

COUNTRIES = 40
JURORS = 5
TARGET_MS = 5.0
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def build_sheet(seed: int = 2024) -> Sheet:
    rnd = random.Random(seed)
    codes = [a + b for a in string.ascii_uppercase for b in string.ascii_uppercase][:COUNTRIES]
    entries = [Entry(country=c, running_order=i) for i, c in enumerate(codes, start=1)]
    appeal = {c: rnd.random() for c in codes}
    votes: list[CountryVote] = []
    for voter in [*codes, "WW"]:
        others = [c for c in codes if c != voter]
        rankings = [
            sorted(others, key=lambda c: -(appeal[c] + rnd.gauss(0, 0.3))) for _ in range(JURORS)
        ]
        counts = {c: int(100_000 * appeal[c] * rnd.random()) for c in others}
        votes.append(
            CountryVote(
                from_=voter,
                jury_rankings=rankings if voter != "WW" else None,
                televote_counts=counts,
            )
        )
    return Sheet(entries=entries, votes=votes)


def sum_range_timings(samples: int) -> list[float]:
    """`samples` timings of ``sum(range(1000))`` in seconds: a loop with no SilkVote code in
    it. The best of them is the machine's speed (`calibration_us`); the bench's regression
    guard takes their median, the speed a run had (`loadtests/bench/guard.py`)."""
    timings: list[float] = []
    for _ in range(samples):
        start = time.perf_counter()
        sum(range(1000))
        timings.append(time.perf_counter() - start)
    return timings


def calibration_us() -> float:
    """This machine's speed: best time of ``sum(range(1000))`` in µs (about 8 µs on a
    typical 2020s desktop core), so that figures from different machines can be compared."""
    return min(sum_range_timings(200)) * 1e6


def measure(runs: int) -> tuple[float, float, float, float]:
    """(median, p99, best) wall-clock ms and the median CPU ms of this thread per call."""
    sheet = build_sheet()
    for _ in range(20):  # warm-up (power tables, caches)
        score(sheet)
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.thread_time()
        score(sheet)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    return statistics.median(times), p99, times[0], statistics.median(cpu)


def write_docs(median: float, p99: float, best: float, cpu: float, runs: int, calib: float) -> None:
    section = (
        "## Scoring engine\n\n"
        f"`loadtests/bench_scoring.py`: one `score()` of a {COUNTRIES}-country final "
        f"({COUNTRIES} entries; {COUNTRIES} juries of {JURORS} jurors with full rankings, "
        f"exponential method; audience counts from all {COUNTRIES} countries plus WW), "
        "validation included.\n\n"
        "| runs | median | p99 | best | median CPU time | target |\n"
        "|---|---|---|---|---|---|\n"
        f"| {runs} | {median:.2f} ms | {p99:.2f} ms | {best:.2f} ms | {cpu:.2f} ms "
        f"| < {TARGET_MS:g} ms |\n\n"
        f"Measured with Python {platform.python_version()} on {platform.machine()} "
        f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} while measuring; this machine runs `sum(range(1000))` in "
        f"{calib:.1f} µs, a typical desktop core in about 8 µs). Scaled by that calibration "
        f"to a typical core, the median would be about {median * 8 / calib:.1f} ms (an "
        "estimate, not a measurement). On a loaded machine the wall-clock median includes "
        "waiting for a CPU; `best` is the closest to an idle machine. Re-run: "
        "`.venv/bin/python loadtests/bench_scoring.py --write-docs`.\n"
    )
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    start = text.find("## Scoring engine")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("" if end == -1 else "\n" + text[end + 1 :])
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)
    calib = calibration_us()
    median, p99, best, cpu = measure(args.runs)
    verdict = "OK" if median < TARGET_MS else "SLOWER THAN TARGET"
    print(
        f"score(): median {median:.2f} ms, p99 {p99:.2f} ms, best {best:.2f} ms, "
        f"median CPU {cpu:.2f} ms over {args.runs} runs "
        f"(target < {TARGET_MS:g} ms): {verdict}; calibration sum(range(1000)) = {calib:.1f} µs"
    )
    if args.write_docs:
        write_docs(median, p99, best, cpu, args.runs, calib)
    return 0 if median < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
