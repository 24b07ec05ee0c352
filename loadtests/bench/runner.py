"""The run: stores, a server with one worker then two, the phases, the ledger check.

Figures are only worth reading next to a yardstick measured the same way, so every
phase runs against the same server, generator and concurrency as `/healthz`. And a
fast figure is only worth having if no vote was lost: after the phases every contest
is checked, the ledger against the acknowledged votes and the live tallies against the
ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from loadtests.bench.guard import host_speed_us
from loadtests.bench.load import run_load, warm_process
from loadtests.bench.phases import PhaseResult, WsResult
from loadtests.bench.plan import CAP, Plan
from loadtests.bench.sampling import ProcessGroups
from loadtests.bench.server_secrets import server_secrets
from loadtests.bench.stats import bucket_counts, parse_counter, parse_histogram, percentile
from loadtests.bench.tally import LoadSpec, Tally
from tests.harness.server import LiveServer, serve
from tests.harness.stores import Stores, open_stores

# What the bench's servers run with besides their secrets: production's rate of
# leaderboard updates, and no self-service tokens (the bench signs its own). Its
# thousands of websocket watchers share one address: no per-client socket limit.
SERVER_SETTINGS = {"LOG_LEVEL": "warning", "LEADERBOARD_HZ": "2",
                   "SELF_SERVICE_TOKENS": "false", "WS_CONNECTIONS_PER_CLIENT": "0"}
_CUT_EARLY = "silkvote_commit_cut_early_seconds"  # the committer's mode (service/intake)


def open_contest(server: LiveServer, label: str) -> str:
    """A demo contest of its own for one phase, window open: each phase's ledger check
    then counts only that phase's votes."""
    contest = server.new_contest(name=f"Bench {label} {secrets.token_hex(3)}", vote_cap=CAP)
    server.call("POST", f"/api/v1/contests/{contest}/window", {"state": "open"})
    return contest


async def _ledger_count(database_url: str, contest: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM votes WHERE contest_id = $1", contest))
    finally:
        await conn.close()


class Bench:
    """Runs the phases against one server; collects results and writes the report."""

    def __init__(self, plan: Plan, out_dir: Path, progress: Any) -> None:
        self.plan = plan
        self.out_dir = out_dir
        self.progress = progress
        self.t0 = time.time()
        self.phases: list[PhaseResult] = []  # what the tables report
        self.timeline: list[PhaseResult] = []  # every run as it happened, for the plot
        self.ws_runs: list[WsResult] = []  # one per server configuration (1, 2 workers)
        self.checks: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.executor: ProcessPoolExecutor | None = None
        self.secrets_env = server_secrets("bench")
        self.acknowledged: dict[str, int] = Counter()
        self.load_before = os.getloadavg()
        self.load_after = self.load_before
        self.stores_desc = ""
        self.baseline: tuple[str, dict[str, Any]] | None = None  # (commit, its headline)
        self.guard_line = ""
        self.host_speeds: list[float] = []  # sum(range(1000)) in µs, beside each vote slice

    # -- helpers

    def say(self, text: str) -> None:
        self.progress.console.print(text)

    def _start_executor(self) -> None:
        import multiprocessing

        procs = self.plan.generator_procs + 1  # +1 for the websocket vote poster
        self.executor = ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn"))
        for future in [self.executor.submit(warm_process) for _ in range(procs * 2)]:
            future.result()

    def _wait(self, futures: list[Future[Tally]], label: str, total_s: float) -> Tally:
        task = self.progress.add_task(label, total=total_s)
        started = time.time()
        while not all(f.done() for f in futures):
            self.progress.update(task, completed=min(time.time() - started, total_s))
            time.sleep(0.1)
        self.progress.update(task, completed=total_s)
        merged = Tally()
        for future in futures:
            merged.merge(future.result())
        return merged

    def _specs(self, kind: str, server: LiveServer, duration: float, connections: int,
               **extra: Any) -> list[LoadSpec]:
        from service.contests.demo import DEMO_LINEUP, DEMO_VOTING_COUNTRIES

        procs = self.plan.generator_procs
        start_at = time.time() + 1.5
        return [LoadSpec(kind=kind, host="127.0.0.1", port=server.port, start_at=start_at,
                         duration_s=duration, connections=max(1, connections // procs),
                         worker=w, signing_secret=self.secrets_env["SIGNING_SECRET"],
                         countries=tuple(DEMO_VOTING_COUNTRIES),
                         entries=tuple(c for c, _, _ in DEMO_LINEUP), **extra)
                for w in range(procs)]

    def run_phase(self, server: LiveServer, groups: ProcessGroups, name: str, label: str,
                  kind: str, duration: float, connections: int, contest: str = "",
                  **extra: Any) -> PhaseResult:
        assert self.executor is not None
        specs = self._specs(kind, server, duration, connections, contest=contest, **extra)
        scrape = server.call("GET", "/metrics")
        metrics_before = parse_histogram(scrape, "silkvote_commit_batch_votes")
        cut_early_before = parse_counter(scrape, _CUT_EARLY)
        futures = [self.executor.submit(run_load, spec) for spec in specs]
        time.sleep(max(0.0, specs[0].start_at - time.time()))
        cpu_before = groups.cpu()
        tally = self._wait(futures, label, duration + 1.5)
        cpu_after = groups.cpu()
        elapsed = time.time() - specs[0].start_at
        scrape = server.call("GET", "/metrics")
        metrics_after = parse_histogram(scrape, "silkvote_commit_batch_votes")
        result = PhaseResult(
            name, label, kind, server.workers, specs[0].start_at - self.t0,
            min(duration, elapsed) if kind != "vote_rate" else duration, tally,
            {k: cpu_after[k] - cpu_before[k] for k in cpu_after}, groups.rss(),
            bucket_counts(metrics_before, metrics_after), contest,
            parse_counter(scrape, _CUT_EARLY) - cut_early_before)
        if contest:
            self.acknowledged[contest] += tally.accepted
        self.phases.append(result)
        self.timeline.append(result)
        lat = tally.latencies
        unit = "votes/s" if kind == "batch" else "req/s"
        figure = result.votes_per_s if kind == "batch" else result.rate
        self.say(f"  {label}: [bold]{figure:,.0f} {unit}[/bold], p50 "
                 f"{percentile(lat, 50) * 1000:.1f} ms, p99 {percentile(lat, 99) * 1000:.1f} ms, "
                 f"statuses {dict(sorted(tally.statuses.items()))}"
                 + (f", errors {tally.errors}" if tally.errors else ""))
        return result

    # -- the run

    def run(self) -> None:
        plan = self.plan
        folder = Path(tempfile.mkdtemp(prefix="silkvote-bench-"))
        self.say(f"[dim]working folder {folder}[/dim]")
        stores = asyncio.run(open_stores(folder, prefix="silkvote_bench"))
        self.stores_desc = ("embedded PostgreSQL and Valkey (temporary folder)" if stores.embedded
                            else "the machine's PostgreSQL and Redis (fresh database)")
        self.say(f"stores: {self.stores_desc}")
        self._start_executor()
        try:
            self._run_on(stores, folder, workers=1)
            if plan.two_workers:
                self._run_on(stores, folder, workers=2)
        finally:
            if self.executor is not None:
                self.executor.shutdown(cancel_futures=True)
            with contextlib.suppress(Exception):
                asyncio.run(stores.close())
            if not os.environ.get("BENCH_KEEP"):
                shutil.rmtree(folder, ignore_errors=True)
        self.load_after = os.getloadavg()

    def _run_on(self, stores: Stores, folder: Path, workers: int) -> None:
        plan = self.plan
        server = serve(stores, folder / "data", SERVER_SETTINGS | self.secrets_env,
                       workers=workers)
        groups = ProcessGroups(server.proc.pid, stores.postgres_pid, stores.redis_pid)
        suffix = "" if workers == 1 else f" ({workers} workers)"
        tag = f"w{workers}"
        try:
            warm = open_contest(server, "warm-up")
            self.run_phase(server, groups, f"warmup{tag}", "warm-up" + suffix, "vote",
                           plan.warmup_s, plan.concurrency, warm, tag=f"warm{tag}")
            self.phases.pop()
            self.timeline.pop()
            vote = self.run_yardstick_and_votes(server, groups, tag, suffix)
            if workers == 1:
                rate = max(vote.rate / 2, 10.0)
                paced = open_contest(server, "paced")
                self.run_phase(server, groups, "paced", f"votes at {rate:,.0f}/s (half rate)",
                               "vote_rate", plan.phase_s, plan.concurrency, paced,
                               rate=rate / plan.generator_procs, tag="paced")
                batch = open_contest(server, "batch")
                key = server.call("POST", f"/api/v1/contests/{batch}/aggregator-keys",
                                  {"name": "bench"})["key"]
                self.run_phase(server, groups, "batch", "10,000-vote batches", "batch",
                               plan.phase_s, plan.batch_connections * plan.generator_procs,
                               batch, token=key, tag="b", resend_every=5)
            self.run_websockets(server, groups, workers)
            self.verify(server, stores)
        finally:
            server.stop()

    def run_yardstick_and_votes(self, server: LiveServer, groups: ProcessGroups, tag: str,
                                suffix: str) -> PhaseResult:
        """/healthz and single votes in alternating slices; the single-vote phase.

        The host's speed drifts (other tenants, CPU steal), by a third within minutes on
        a shared VM. Taking turns makes the drift weigh on both alike, so their ratio is
        measured, not the host's mood between two phases.
        """
        plan = self.plan
        votes = open_contest(server, "votes")
        slice_s = plan.phase_s / plan.alternations
        slices: dict[str, list[PhaseResult]] = {"healthz": [], "ping": [], "vote": []}
        for turn in range(plan.alternations):
            slices["healthz"].append(self.run_phase(
                server, groups, f"healthz{tag}", "/healthz" + suffix, "healthz", slice_s,
                plan.concurrency))
            slices["ping"].append(self.run_phase(
                server, groups, f"ping{tag}", "/livez (ping, no I/O)" + suffix, "ping",
                slice_s, plan.concurrency))
            if tag == "w1":  # the host's speed now, for the regression guard
                self.host_speeds.append(host_speed_us())
            slices["vote"].append(self.run_phase(
                server, groups, f"votes{tag}", "single votes" + suffix, "vote", slice_s,
                plan.concurrency, votes, tag=f"v{tag}t{turn}"))
        for parts in slices.values():
            for part in parts:
                self.phases.remove(part)
        joined = {kind: PhaseResult.joined(parts) for kind, parts in slices.items()}
        self.phases += joined.values()
        return joined["vote"]

    def run_websockets(self, server: LiveServer, groups: ProcessGroups, workers: int) -> None:
        assert self.executor is not None
        plan = self.plan
        contest = open_contest(server, "watchers")
        connect_at = time.time() + 0.5
        votes_at = connect_at + plan.ws_connect_s
        listen_until = votes_at + plan.ws_s + 2.0
        watcher_specs = [
            dataclasses.replace(spec, start_at=connect_at, duration_s=listen_until - connect_at)
            for spec in self._specs("ws", server, 0, plan.ws_clients, contest=contest)]
        voter_spec = self._specs("ws_votes", server, plan.ws_s, 1, contest=contest,
                                 rate=plan.ws_votes_per_s, tag="ws")[0]
        voter_spec = dataclasses.replace(voter_spec, start_at=votes_at)
        futures = [self.executor.submit(run_load, s) for s in watcher_specs]
        futures.append(self.executor.submit(run_load, voter_spec))
        task = self.progress.add_task(f"{plan.ws_clients:,} websocket watchers ({workers} w)",
                                      total=listen_until - connect_at)
        time.sleep(max(0.0, votes_at - time.time()))
        cpu_before, t_before = groups.cpu(), time.time()
        rss_peak = 0
        cpu_after, t_after = cpu_before, t_before
        while not all(f.done() for f in futures):  # sample once a second: the bench's own
            now = time.time()                      # /proc reading competes for the cores
            self.progress.update(task, completed=min(now - connect_at, listen_until - connect_at))
            if now < votes_at + plan.ws_s:
                pids = groups.pids()
                rss_peak = max(rss_peak, groups.rss(pids)["service"])
                cpu_after, t_after = groups.cpu(pids), now
            time.sleep(1.0)
        tally = Tally()
        for future in futures:
            tally.merge(future.result())
        ack = tally.accepted
        self.acknowledged[contest] += ack
        votes: list[tuple[float, float]] = tally.extra.get("votes", [])
        arrivals: dict[int, list[float]] = tally.extra.get("arrivals", {})
        delays = [t - votes[before][0] for before, times in arrivals.items()
                  if before < len(votes) for t in times]
        connected_now = max(int(tally.extra.get("connected", 0)), 1)
        updates = round(len(delays) / connected_now)  # updates each client got, on average
        connected = int(tally.extra.get("connected", 0))
        last = max(tally.extra.get("last_connected_at", [connect_at]))
        cpu_s = sum(cpu_after.values()) - sum(cpu_before.values())
        ws = WsResult(
            workers, plan.ws_clients, connected, last - connect_at, updates, delays,
            {int(k): v for k, v in tally.extra.get("closes", {}).items()},
            (cpu_after["service"] - cpu_before["service"]) / max(t_after - t_before, 1e-9) * 100,
            rss_peak / 2**20, ack, len(delays) / max(updates, 1))
        self.progress.update(task, completed=listen_until - connect_at)
        self.ws_runs.append(ws)
        self.notes.append(f"websocket phase ({workers} workers): stores+service CPU "
                          f"{cpu_s:.1f} s over {t_after - t_before:.1f} s")
        self.say(f"  websockets ({workers} workers): {connected:,}/{plan.ws_clients:,} connected "
                 f"in {last - connect_at:.1f} s, {updates} updates, p99 delay "
                 f"[bold]{percentile(delays, 99) * 1000:.0f} ms[/bold], service CPU "
                 f"{ws.cpu_percent:.0f}%, RSS {ws.rss_mb:.0f} MB, drops {ws.drops or 'none'}")

    def verify(self, server: LiveServer, stores: Stores) -> None:
        for contest, acknowledged in self.acknowledged.items():
            if any(c["contest"] == contest for c in self.checks):
                continue
            ledger = asyncio.run(_ledger_count(stores.database_url, contest))
            found = server.call("POST", f"/api/v1/contests/{contest}/verify")
            check = {"contest": contest, "acknowledged": acknowledged, "ledger": ledger,
                     "live": found.get("live_total"), "tallies_match": bool(found.get("ok")),
                     "ok": ledger == acknowledged and bool(found.get("ok"))}
            self.checks.append(check)
            mark = "[green]OK[/green]" if check["ok"] else "[red]MISMATCH[/red]"
            self.say(f"  ledger check {contest}: acknowledged {acknowledged:,}, ledger "
                     f"{ledger:,}, live {check['live']:,} {mark}")

    # -- results

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)

    def headline(self) -> dict[str, Any]:
        healthz, votes = self.phase("healthzw1"), self.phase("votesw1")
        paced, batch = self.phase("paced"), self.phase("batch")
        out: dict[str, Any] = {}
        ping = self.phase("pingw1")
        if ping:
            out["ping_rps"] = ping.rate
        if healthz and votes:
            out["healthz_rps"] = healthz.rate
            out["vote_rps"] = votes.rate
            out["ratio"] = votes.rate / healthz.rate if healthz.rate else math.nan
        if paced:
            out["paced_rate"] = paced.rate
            out["paced_p50_ms"] = percentile(paced.tally.latencies, 50) * 1000
            out["paced_p99_ms"] = percentile(paced.tally.latencies, 99) * 1000
        if batch:
            out["batch_votes_per_s"] = batch.votes_per_s
        if votes:
            out["cpu_per_vote_us"] = votes.cpu_per_vote_us()
        if batch:
            out["cpu_per_batch_vote_us"] = batch.cpu_per_vote_us()
        if self.ws_runs:  # the headline is the run with one worker per core, when there is one
            best = max(self.ws_runs, key=lambda run: run.workers)
            out["ws_p99_ms"] = percentile(best.delays, 99) * 1000
            out["ws_workers"] = best.workers
        h2, v2 = self.phase("healthzw2"), self.phase("votesw2")
        if h2 and v2:
            out["healthz_rps_2w"], out["vote_rps_2w"] = h2.rate, v2.rate
        if self.host_speeds:
            out["host_speed_us"] = statistics.median(self.host_speeds)
        out["ledger_ok"] = all(c["ok"] for c in self.checks) and bool(self.checks)
        return out
