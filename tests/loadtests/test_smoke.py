"""CI smoke: every Locust scenario runs headless for a few seconds against a real server
with no unexpected failure, and the bench machinery (`loadtests/bench`) measures, checks
the ledger and writes its report. Expected refusals (409/422/429, duplicates) are caught by
the scenarios themselves and counted as successes, so any failure here is real.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from loadtests.bench.plan import Plan
from loadtests.bench.report import merge_scoring_section, write_report
from loadtests.bench.runner import Bench, open_contest
from loadtests.bench.sampling import ProcessGroups
from loadtests.bench.stats import bucket_counts, parse_histogram
from tests.conftest import REPO, LiveServer, Stores, start_server
from tests.harness.waiting import WaitTimeout, wait_until

SCENARIOS: dict[str, dict[str, Any]] = {
    # scenario: users, and request names that must show up
    "lines_open": {"users": 10, "names": {"vote", "voter token", "vote (over the cap → 429)"}},
    "aggregator_flood": {"users": 3, "names": {"batch", "aggregator key"}},
    "watchers": {"users": 8, "names": {"connect", "update (as_of → arrival)"}},
    "jury_night": {"users": 8, "names": {"jury session", "ballot submit"}},
    "full_show": {"users": 12, "names": {"vote", "batch", "connect", "window closed"}},
}
RUN_S = 10
RUN_LIMIT_S = 90  # and at most this long (Locust's own `-t`, a backstop)


@pytest.fixture(scope="module")
def load_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    """Like `live_server`, but the per-IP juror login limit would throttle 60 jurors who
    all sign in from the generator's one address."""
    server = start_server(stores, tmp_path_factory.mktemp("load-server"),
                          RATE_LIMIT_JURY_LOGIN_PER_MIN="100000")
    yield server
    server.stop()


def exercised(csv_stats: Path) -> set[str]:
    """The request names a running Locust has counted (its CSV, rewritten every second)."""
    if not csv_stats.is_file():
        return set()
    with csv_stats.open(newline="") as handle:
        return {row["Name"] for row in csv.DictReader(handle)
                if row.get("Name") not in (None, "Aggregated") and int(row["Request Count"] or 0)}


@pytest.fixture(scope="module")
def locust_runs(load_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[dict[str, tuple[int, list[dict[str, Any]], str]]]:
    """All five scenarios at once (each with its own contest), for RUN_S seconds and then
    until each has sent every request it must, stopped with SIGTERM (Locust then prints
    its JSON summary and exits as `-t` would).

    Not a fixed `-t`: on a slow host, with the suite's other workers busy, five Locust
    processes took most of 10 s to start, and jury_night sent nothing in that time."""
    live_server = load_server
    folder = tmp_path_factory.mktemp("locust")
    env = dict(os.environ, SILKVOTE_URL=live_server.base_url,
               SILKVOTE_ADMIN_TOKEN=live_server.admin_token, SILKVOTE_VOTE_CAP="3",
               SILKVOTE_BATCH_SIZE="200", SILKVOTE_WINDOW_CYCLE_S="2",
               SILKVOTE_OVER_CAP_SHARE="1", SILKVOTE_WAIT_SCALE="0.3")
    env.pop("SILKVOTE_CONTEST", None)
    procs = {}
    for name, scenario in SCENARIOS.items():
        users = scenario["users"]
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", f"loadtests/{name}.py", "--headless",
             "-u", str(users), "-r", str(users), "-t", f"{RUN_LIMIT_S}s",
             "-H", live_server.base_url, "--json", "--only-summary", "--stop-timeout", "3",
             "--csv", str(folder / name), "--loglevel", "WARNING"],
            cwd=REPO, env=env, stdout=subprocess.PIPE,
            stderr=(folder / f"{name}.log").open("wb"))
    time.sleep(RUN_S)  # the scenarios run at least this long: what the smoke is about
    with contextlib.suppress(WaitTimeout):  # the test of each scenario says what it missed
        wait_until(lambda: all(SCENARIOS[n]["names"] <= exercised(folder / f"{n}_stats.csv")
                               for n in procs), RUN_LIMIT_S - RUN_S,
                   "every scenario to send each request it must", interval_s=0.5)
    for proc in procs.values():
        proc.terminate()
    results = {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=60)
        stats = json.loads(out.decode() or "[]")
        results[name] = (proc.returncode, stats, (folder / f"{name}.log").read_text()[-3000:])
    yield results


@pytest.mark.slow  # the five scenarios share ≈15 s of wall time
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_locust_scenario_runs_without_unexpected_failures(
        locust_runs: dict[str, tuple[int, list[dict[str, Any]], str]], scenario: str) -> None:
    code, stats, log = locust_runs[scenario]
    failures = {s["name"]: s["num_failures"] for s in stats if s["num_failures"]}
    assert not failures, f"{failures}\n{log}"
    assert code == 0, log
    names = {s["name"] for s in stats if s["num_requests"]}
    missing = SCENARIOS[scenario]["names"] - names
    assert not missing, f"never exercised: {missing}; saw {sorted(names)}\n{log}"


@pytest.mark.slow  # ≈20 s: every bench phase for a second, plus process start-up
def test_bench_machinery_measures_checks_the_ledger_and_writes_the_report(
        live_server: LiveServer, stores: Stores, tmp_path: Path) -> None:
    """A tiny bench run: every phase kind for a second against the test server."""
    from rich.progress import Progress

    started = time.monotonic()
    plan = Plan(phase_s=1.0, concurrency=8, batch_connections=1, ws_clients=20, ws_s=2.0,
                ws_connect_s=1.5, generator_procs=1, two_workers=False, quick=True)
    server = live_server
    groups = ProcessGroups(live_server.proc.pid, None, None)
    with Progress(disable=True) as progress:
        run = Bench(plan, tmp_path, progress)
        run.secrets_env["SIGNING_SECRET"] = live_server.env["SIGNING_SECRET"]
        run.stores_desc = "test stores"
        run.executor = ProcessPoolExecutor(2, mp_context=get_context("spawn"))
        try:
            run.run_phase(server, groups, "healthzw1", "/healthz", "healthz", 1.0, 8)
            votes = open_contest(server, "smoke")
            run.run_phase(server, groups, "votesw1", "single votes", "vote", 1.0, 8, votes,
                          tag="s")
            paced = open_contest(server, "paced")
            run.run_phase(server, groups, "paced", "paced", "vote_rate", 1.0, 8, paced,
                          rate=50.0, tag="p")
            batch = open_contest(server, "batch")
            key = server.call("POST", f"/api/v1/contests/{batch}/aggregator-keys",
                              {"name": "smoke"})["key"]
            run.run_phase(server, groups, "batch", "batches", "batch", 1.0, 1, batch,
                          token=key, tag="b", resend_every=2)
            run.run_websockets(server, groups, workers=1)
            run.verify(server, stores)
        finally:
            run.executor.shutdown()
    headline = run.headline()
    assert headline["healthz_rps"] > 0 and headline["vote_rps"] > 0
    assert headline["batch_votes_per_s"] > 0
    assert headline["ledger_ok"], run.checks
    [ws] = run.ws_runs
    assert ws.connected == 20 and ws.delays
    assert 0 <= ws.connect_s < plan.ws_connect_s  # counted from the agreed start
    assert min(ws.delays) > 0 and ws.per_update_clients == 20
    assert any(n for _, n in run.phase("votesw1").commit_batches)  # type: ignore[union-attr]
    (tmp_path / "benchmarks.md").write_text("# old\n\n## Scoring engine\n\nkept text\n")
    page = write_report(run, tmp_path)
    text = page.read_text()
    assert "## Headline" in text and "kept text" in text
    assert "## Live leaderboard websockets" in text and "| 1 worker |" in text
    for image in ("bench-throughput.png", "bench-latency.png", "bench-batch-sizes.png"):
        assert (tmp_path / "img" / image).stat().st_size > 5000
        assert f"img/{image}" in text
    assert time.monotonic() - started < 60


def test_the_scoring_section_survives_a_rewrite_of_the_page() -> None:
    old = "# SilkVote benchmarks\n\nold\n\n## Scoring engine\n\nfast\n\n## Later\n\nx\n"
    merged = merge_scoring_section("# SilkVote benchmarks\n\nnew\n", old)
    assert merged == "# SilkVote benchmarks\n\nnew\n\n## Scoring engine\n\nfast\n"
    assert merge_scoring_section("new\n", "no section") == "new\n"


def test_prometheus_histogram_deltas() -> None:
    before = "silkvote_commit_batch_votes_bucket{le=\"1.0\"} 2.0\n" \
             "silkvote_commit_batch_votes_bucket{le=\"+Inf\"} 3.0\n"
    after = "silkvote_commit_batch_votes_bucket{le=\"1.0\"} 5.0\n" \
            "silkvote_commit_batch_votes_bucket{le=\"+Inf\"} 10.0\n"
    name = "silkvote_commit_batch_votes"
    counts = bucket_counts(parse_histogram(before, name), parse_histogram(after, name))
    assert counts == [(1.0, 3), (float("inf"), 4)]
