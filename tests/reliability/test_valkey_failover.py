"""Losing Valkey's primary mid-show: Sentinel promotes the replica, every client finds
it by itself, and the live board is exact again within 5 s (docs/reliability.md).

The drill runs a primary, a replica and three Sentinels (`tests/harness/sentinel.py`),
serves with `REDIS_URL=redis+sentinel://…`, floods votes, `kill -9`s the primary and
lets the Sentinels promote the replica. Votes never needed Redis, so none may be
refused; the tally increments the dead primary took with it (replication is
asynchronous) and those sent while there was no primary are the reconciler's to repair
from the ledger. Its figures go to test-artifacts/drills/valkey-primary-kill-9.json
for `make drills` (`outage_s` is the longest stretch without an acknowledgement:
intake's outage, not the board's).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from service.core.config import ConfigError, load_settings
from service.core.redis_url import parse_sentinel_url
from tests.harness.sentinel import MASTER_NAME, Node, SentinelSet, start_sentinels
from tests.harness.server import LiveServer
from tests.harness.waiting import eventually, wait_until
from tests.reliability.drills import record_drill
from tests.reliability.rig import (
    Rig,
    VoteLog,
    check_ledger,
    make_voters,
    on_own_stores,
    open_contest,
    run_load,
)

CAP = 5
LOAD_S = float(os.environ.get("FAULT_LOAD_S", "2"))  # seconds of load before the kill
AFTER_S = 1.0  # seconds of load on the new primary, before the board's exactness is timed
EXACT_WITHIN_S = 5.0  # from the promotion to live tallies equal to the ledger
PROMOTED_WITHIN_S = 30.0
RECONCILE_INTERVAL_S = 0.5
DRILL_NAME = "valkey primary kill -9"


@pytest.mark.stores_independent
def settings_with(redis_url: str, tmp_path: Path) -> str | None:
    return load_settings({"REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                          "SILKVOTE_ENV_FILE": str(tmp_path / "none.env")}).redis_url


@pytest.mark.stores_independent
def test_redis_url_may_name_sentinels_and_a_master(tmp_path: Path) -> None:
    url = "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,[::1]:26381/silkvote/2"
    assert settings_with(url, tmp_path) == url
    address = parse_sentinel_url(url)
    assert address.sentinels == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 26381)]
    assert (address.master, address.db) == ("silkvote", 2)
    default = parse_sentinel_url("redis+sentinel://:s%40cret@sentinel/silkvote")
    assert (default.sentinels, default.db, default.password) == (
        [("sentinel", 26379)], 0, "s@cret")


@pytest.mark.stores_independent
@pytest.mark.parametrize("url", [
    "redis+sentinel://10.0.0.1:26379",  # no master name
    "redis+sentinel:///silkvote",  # no Sentinel
    "redis+sentinel://10.0.0.1:port/silkvote",
    "redis+sentinel://10.0.0.1/silkvote/zero",
])
def test_a_sentinel_url_without_sentinels_or_a_master_name_is_refused(
        url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REDIS_URL") as refused:
        settings_with(url, tmp_path)
    assert "redis+sentinel://host1:port1" in str(refused.value)


Counts = dict[str, dict[str, int]]


async def live_and_ledger(server: LiveServer, cid: str) -> tuple[Counts, Counts] | list[int]:
    """The vote counts of results?source=live and of the ledger, as the producer sees them
    (or the statuses, when either is not 200)."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        views = [await api.get(f"/api/v1/contests/{cid}/results",
                               params={"source": source, "view": "full"}, headers=server.admin)
                 for source in ("live", "ledger")]
    if any(v.status_code != 200 for v in views):
        return [v.status_code for v in views]
    live, ledger = ({c: {e: n for e, n in row.items() if n} for c, row in v.json()["votes"].items()}
                    for v in views)
    return live, ledger


def exact(counts: tuple[Counts, Counts] | list[int]) -> bool:
    return isinstance(counts, tuple) and counts[0] == counts[1]


def reloaded_scripts(node: Node) -> tuple[int, int]:
    """(NOSCRIPT answers, EVALSHA calls) of `node`: a promoted replica has no script
    cache, so redis-py's `Script` must have met NOSCRIPT, loaded it and called again."""
    stats = node.cli("info", "errorstats") + node.cli("info", "commandstats")
    noscript = evalsha = 0
    for line in stats.split():
        if line.startswith("errorstat_NOSCRIPT:count="):
            noscript = int(line.rpartition("=")[2])
        if line.startswith("cmdstat_evalsha:calls="):
            evalsha = int(line.split(",")[0].rpartition("=")[2])
    return noscript, evalsha


@pytest.fixture
async def drill(tmp_path: Path) -> AsyncIterator[tuple[Rig, SentinelSet]]:
    """The rig's embedded PostgreSQL, and the Sentinel set as the servers' Redis."""
    rig = await Rig.start(tmp_path)
    sentinels = await asyncio.to_thread(start_sentinels, tmp_path / "sentinel")
    rig.stores.redis_url = sentinels.url
    try:
        yield rig, sentinels
    finally:
        rig.stop()
        sentinels.stop()


@pytest.mark.slow
@pytest.mark.drill
@on_own_stores("the drill kills its own Valkey")
async def test_kill_9_of_the_valkey_primary_is_repaired_within_5_s_of_the_promotion(
        drill: tuple[Rig, SentinelSet]) -> None:
    """No vote refused and none lost while Valkey fails over; the service's clients reach
    the promoted replica by themselves (pub/sub re-subscribed, scripts reloaded); the
    live board equals the ledger within 5 s of the promotion."""
    rig, sentinels = drill
    server = rig.serve(RECONCILE_INTERVAL_S=str(RECONCILE_INTERVAL_S))
    assert server.env["REDIS_URL"].startswith("redis+sentinel://")
    cid = await open_contest(server, CAP)
    voters = await make_voters(server, cid, int(400 * (LOAD_S + AFTER_S + 5)))
    log, stop = VoteLog(), asyncio.Event()
    loop = asyncio.get_running_loop()
    load = asyncio.create_task(run_load([server], cid, voters, log, stop))
    await asyncio.sleep(LOAD_S)  # a duration: LOAD_S seconds of votes before the kill

    killed_at = loop.time()
    old = await asyncio.to_thread(sentinels.kill_primary)  # the loop keeps voting meanwhile
    new = await asyncio.to_thread(sentinels.wait_promoted, old, PROMOTED_WITHIN_S)
    promoted_at = loop.time()
    await asyncio.sleep(AFTER_S)  # a duration: votes whose tallies go to the new primary
    stop.set()
    await asyncio.wait_for(load, timeout=60)

    await eventually(lambda: live_and_ledger(server, cid),
                     promoted_at + EXACT_WITHIN_S - loop.time(),
                     "results?source=live to equal the ledger", ok=exact, interval_s=0.05,
                     retry_on=(httpx.HTTPError,))
    exact_s = loop.time() - promoted_at
    record = await record_drill(DRILL_NAME, rig.stores.database_url, cid, log, CAP,
                                exact_tallies_s=exact_s)
    print(f"\n  {record}\n  promoted {promoted_at - killed_at:.2f} s after the kill; answers "
          f"{dict(log.status_counts)}, transport errors {len(log.errors_during)}")

    assert record.acknowledged > 0
    assert (record.lost, record.double, record.cap_breaches) == (0, 0, 0), record
    await check_ledger(rig, cid, log, CAP)  # nothing unsent; cap counters equal the ledger
    assert log.status_counts[503] == 0, "a vote was refused while only Redis failed over"
    assert exact_s <= EXACT_WITHIN_S
    noscript, evalsha = reloaded_scripts(new)
    assert noscript >= 1 and evalsha > noscript, (noscript, evalsha)
    subscribers = wait_until(lambda: new.cli("pubsub", "numsub", "sv:changed").split(), 10,
                             "the hub to subscribe on the new primary",
                             ok=lambda out: len(out) == 2 and int(out[1]) >= 1)
    assert int(subscribers[1]) >= 1
    assert sentinels.primary_port_seen() == {new.port} and MASTER_NAME in sentinels.url
