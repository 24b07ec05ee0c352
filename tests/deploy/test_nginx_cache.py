"""Viewer scale: nginx with deploy/nginx-cache.conf in front of SilkVote absorbs the
audience's polls of the results. For a few seconds, many concurrent pollers read the
public results through nginx while votes keep coming: SilkVote itself answers at most a
few of those reads a second, and every poll sees the votes acknowledged two seconds
before it was sent (its data is never older than 2 s). The full figure (10,000 polls a
second for a minute) is loadtests/bench/results_cache.py's, in docs/benchmarks.md."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from loadtests.bench.http_client import connect_http, http_request
from tests.conftest import LiveServer
from tests.harness.nginx import Nginx, nginx_or_skip
from tests.harness.results_watch import Voting, origin_results_answers

POLL_SECONDS = 6.0
POLLERS = 32
MAX_AGE_S = 2.0
@pytest.fixture(scope="module")
def nginx(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    with nginx_or_skip(live_server.port, Path(tmp_path_factory.mktemp("nginx"))) as server:
        yield server


async def poll(port: int, path: str, until: float) -> list[tuple[float, int]]:
    """(sent at, votes seen) of every poll one viewer made, on a keep-alive connection
    (the bench's raw client: httpx would spend more CPU per poll than nginx does); a
    connection nginx closes is opened again, as a browser would."""
    seen: list[tuple[float, int]] = []
    raw = http_request("GET", path, f"127.0.0.1:{port}")
    connection = await connect_http("127.0.0.1", port)
    while time.monotonic() < until:
        sent = time.monotonic()
        try:
            status, body = await connection.request(raw)
        except ConnectionError:
            connection = await connect_http("127.0.0.1", port)
            continue
        assert status == 200, body[:300]
        votes = sum(n for row in msgspec.json.decode(body)["votes"].values()
                    for n in row.values())
        seen.append((sent, votes))
    assert connection.transport is not None
    connection.transport.close()
    return seen


def test_nginx_answers_the_audience_and_silkvote_sees_a_few_requests_a_second(
        live_server: LiveServer, nginx: Nginx) -> None:
    cid = live_server.new_contest(vote_cap=1000)
    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    tokens = [live_server.call("POST", f"/api/v1/contests/{cid}/voter-tokens",
                               {"voter": f"viewer-{i}", "country": "UZ"})["token"]
              for i in range(int(POLL_SECONDS * 10) + 20)]
    path = f"/api/v1/contests/{cid}/results"
    assert httpx.get(nginx.base_url + path, timeout=10).status_code == 200  # warm the copy

    voting = Voting(live_server, cid, tokens)
    before = origin_results_answers(live_server)
    voting.start()
    start = time.monotonic()
    until = start + POLL_SECONDS

    port = int(nginx.base_url.rsplit(":", 1)[1])

    async def audience() -> list[tuple[float, int]]:
        runs = await asyncio.gather(*(poll(port, path, until) for _ in range(POLLERS)))
        return [p for run in runs for p in run]

    polls = asyncio.run(audience())
    elapsed = time.monotonic() - start
    voting.stop.set()
    voting.join(timeout=10)
    origin = origin_results_answers(live_server) - before

    assert len(voting.acked_at) >= 5, "votes kept coming during the polls"
    assert not voting.refused, voting.refused[:3]
    rate = len(polls) / elapsed
    origin_rate = origin / elapsed
    print(f"{len(polls)} polls in {elapsed:.1f} s ({rate:,.0f}/s), SilkVote answered "
          f"{origin:.0f} ({origin_rate:.1f}/s), {len(voting.acked_at)} votes")
    assert origin_rate <= 4, f"SilkVote answered {origin_rate:.1f} reads/s behind the cache"
    assert len(polls) >= 20 * max(origin, 1), "the cache answered nearly every poll"
    stale = [(sent - start, votes, voting.acked_by(sent - MAX_AGE_S))
             for sent, votes in polls if votes < voting.acked_by(sent - MAX_AGE_S)]
    assert not stale, (f"{len(stale)} polls saw data older than {MAX_AGE_S} s "
                       f"(sent at, votes seen, votes acknowledged 2 s before): {stale[:5]}")
