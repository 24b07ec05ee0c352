"""`python -m loadtests.bench.results_cache`: the audience's polls of the results through
nginx with deploy/nginx-cache.conf, at a CDN's scale (default: as fast as `ab` can for
60 s, aiming at 10,000 polls a second).

What it shows: how many polls a second the cache answered, how many requests reached
SilkVote meanwhile (its own /metrics), and how old the data was that the polls saw —
while votes keep coming (one every 0.1 s), a sampler polls through nginx 20 times a
second and checks that each answer holds every vote acknowledged 2 s before it was sent.
`ab` (Debian's apache2-utils, `make bench-tools`) drives the load: a C client, so the
generator does not measure itself. Stores are embedded (a temporary folder); nginx,
ab, the service and the stores share the machine, so the figures are a lower bound.
`--write-docs` replaces the `## Results behind a cache` section of docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import msgspec

from loadtests.bench.http_client import connect_http, http_request
from loadtests.bench.report import CACHE_HEADING, kept_section
from loadtests.bench.server_secrets import server_secrets
from service.core.config import REPO_ROOT
from tests.harness.nginx import nginx_binary, start_nginx
from tests.harness.results_watch import Voting, origin_results_answers
from tests.harness.server import serve
from tests.harness.stores import open_stores

MAX_AGE_S = 2.0
SETTINGS = {**server_secrets("cache-bench"), "LOG_LEVEL": "warning",
            "RATE_LIMIT_VOTER_PER_S": "0", "LEADERBOARD_HZ": "2"}


async def sample(port: int, path: str, seconds: float, votes: Voting) -> dict[str, Any]:
    """20 polls a second through nginx: the age bound each answer kept."""
    connection = await connect_http("127.0.0.1", port)
    raw = http_request("GET", path, f"127.0.0.1:{port}")
    polls = stale = 0
    worst_lag = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sent = time.monotonic()
        try:
            status, body = await connection.request(raw)
        except ConnectionError:  # nginx ended the keep-alive connection: open another
            connection = await connect_http("127.0.0.1", port)
            continue
        seen = sum(n for row in msgspec.json.decode(body)["votes"].values() for n in row.values())
        due = bisect.bisect_right(votes.acked_at, sent - MAX_AGE_S)
        polls += 1
        if status != 200 or seen < due:
            stale += 1
            worst_lag = max(worst_lag, due - seen)
        await asyncio.sleep(0.05)  # the sampler's pace, not a wait for a condition
    return {"samples": polls, "stale_samples": stale, "worst_missing_votes": worst_lag}


def run_ab(url: str, seconds: float, connections: int) -> dict[str, Any]:
    ab = shutil.which("ab")
    if ab is None:
        raise click.ClickException("ab is missing: `make bench-tools` (Debian's apache2-utils)")
    out = subprocess.run([ab, "-k", "-q", "-r", "-c", str(connections), "-t", str(seconds),
                          "-n", "100000000", url], capture_output=True, text=True,
                         check=False).stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, out)
        return float(match.group(1)) if match else float("nan")

    # ab counts a body whose length differs from the first one's as "failed (Length)":
    # results change as votes arrive, so only the other kinds are failures here.
    kinds = re.search(r"\(Connect: (\d+), Receive: (\d+), Length: \d+, Exceptions: (\d+)\)", out)
    failed = float(sum(int(n) for n in kinds.groups())) if kinds else 0.0
    return {"requests": number(r"Complete requests:\s+(\d+)"), "failed": failed,
            "non_2xx": number(r"Non-2xx responses:\s+(\d+)") if "Non-2xx" in out else 0.0,
            "rps": number(r"Requests per second:\s+([\d.]+)"),
            "p50_ms": number(r"\s50%\s+(\d+)"), "p99_ms": number(r"\s99%\s+(\d+)"),
            "max_ms": number(r"100%\s+(\d+)")}


def run(seconds: float, connections: int, nginx_workers: int) -> dict[str, Any]:
    binary = nginx_binary()
    if binary is None:
        raise click.ClickException("nginx is missing: `make nginx` (Debian's nginx)")
    folder = Path(tempfile.mkdtemp(prefix="silkvote-cache-bench-"))
    load_before = os.getloadavg()
    stores = asyncio.run(open_stores(folder / "stores", prefix="silkvote_cache_bench"))
    server = serve(stores, folder / "server", SETTINGS)
    front = None
    try:
        front = start_nginx(binary, server.port, folder / "nginx", workers=nginx_workers)
        cid = server.call("POST", "/api/v1/contests", _contest())["id"]
        server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
        tokens = [server.call("POST", f"/api/v1/contests/{cid}/voter-tokens",
                              {"voter": f"viewer-{i}", "country": "UZ"})["token"]
                  for i in range(int(seconds * 10) + 50)]
        path = f"/api/v1/contests/{cid}/results"
        port = int(front.base_url.rsplit(":", 1)[1])
        votes = Voting(server, cid, tokens)
        before = origin_results_answers(server)
        votes.start()
        started = time.monotonic()
        sampler: dict[str, Any] = {}
        sampling = threading.Thread(target=lambda: sampler.update(
            asyncio.run(sample(port, path, seconds, votes))), daemon=True)
        sampling.start()
        load = run_ab(front.base_url + path, seconds, connections)
        sampling.join(timeout=seconds + 30)
        elapsed = time.monotonic() - started
        votes.stop.set()
        votes.join(timeout=10)
        origin = origin_results_answers(server) - before
    finally:
        if front is not None:
            front.stop()
        server.stop()
        asyncio.run(stores.close())
        shutil.rmtree(folder, ignore_errors=True)
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(), "cores": os.cpu_count(), "seconds": round(elapsed, 1),
            "connections": connections, "nginx_workers": nginx_workers, "load": load,
            "origin_requests": origin, "origin_per_s": round(origin / elapsed, 2),
            "votes": len(votes.acked_at), **sampler,
            "load_avg_before": [round(x, 1) for x in load_before],
            "load_avg_after": [round(x, 1) for x in os.getloadavg()]}


def _contest() -> dict[str, Any]:
    from tests.harness.server import contest_body

    return contest_body(vote_cap=1000)


def _commit() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    return "unknown"


def section(r: dict[str, Any]) -> str:
    load = r["load"]
    verdict = "✅ met" if load["rps"] >= 10_000 else "❌ missed on this host"
    fresh = "✅ met" if r.get("stale_samples", 1) == 0 else "❌ missed"
    few = "✅ met" if r["origin_per_s"] <= 5 else "❌ missed"
    return "\n".join([
        CACHE_HEADING, "",
        "`loadtests/bench/results_cache.py`: viewers poll `GET …/results` through nginx with "
        "[`deploy/nginx-cache.conf`](../deploy/nginx-cache.conf) while votes keep coming "
        "(one every 0.1 s); `ab` keeps "
        f"{r['connections']} keep-alive connections busy for {r['seconds']:g} s, and a "
        "sampler checks 20 times a second that the answer holds every vote acknowledged "
        f"{MAX_AGE_S:g} s before it asked (docs/broadcast.md explains the set-up).", "",
        "| measure | result | target | |", "|---|---|---|---|",
        f"| polls answered through nginx | **{load['rps']:,.0f}/s** ({load['requests']:,.0f} in "
        f"{r['seconds']:g} s, {load['failed']:,.0f} failed, {load['non_2xx']:,.0f} non-2xx) "
        f"| 10,000/s | {verdict} |",
        f"| poll latency through nginx | p50 {load['p50_ms']:g} ms, p99 {load['p99_ms']:g} ms, "
        f"max {load['max_ms']:g} ms | report | |",
        f"| requests that reached SilkVote | **{r['origin_requests']:.0f}** "
        f"({r['origin_per_s']:g}/s) | a few a second | {few} |",
        f"| samples with data older than {MAX_AGE_S:g} s | **{r.get('stale_samples', '?')}** "
        f"of {r.get('samples', '?')} | 0 | {fresh} |", "",
        f"Run {r['date']} at `{r['commit']}` on {r['cores']} cores shared by nginx "
        f"({r['nginx_workers']} worker{'s' if r['nginx_workers'] > 1 else ''}), `ab`, the "
        "service (1 worker), embedded PostgreSQL and Valkey, and other work on the machine: "
        f"load average {' / '.join(map(str, r['load_avg_before']))} before, "
        f"{' / '.join(map(str, r['load_avg_after']))} after. {r['votes']} votes during the "
        "run. Re-run: `make bench-tools && .venv/bin/python -m loadtests.bench.results_cache "
        "--write-docs` (a quiet machine gives the real figure).", ""])


def write_section(r: dict[str, Any]) -> Path:
    page = REPO_ROOT / "docs" / "benchmarks.md"
    text = page.read_text(encoding="utf-8")
    new = section(r).rstrip() + "\n\n"  # a blank line before the next section
    old = kept_section(text, CACHE_HEADING)
    text = text.replace(old, new) if old else text.rstrip() + "\n\n" + new
    page.write_text(text.rstrip() + "\n", encoding="utf-8")
    return page


@click.command()
@click.option("--seconds", type=float, default=60, show_default=True,
              help="How long ab polls (and votes keep coming).")
@click.option("--connections", type=int, default=64, show_default=True,
              help="ab's concurrent keep-alive connections.")
@click.option("--nginx-workers", type=int, default=1, show_default=True)
@click.option("--write-docs", is_flag=True, help="Write the section of docs/benchmarks.md.")
def main(seconds: float, connections: int, nginx_workers: int, write_docs: bool) -> None:
    result = run(seconds, connections, nginx_workers)
    click.echo(json.dumps(result, indent=2))
    if write_docs:
        click.echo(f"wrote {write_section(result)}")


if __name__ == "__main__":
    main()
