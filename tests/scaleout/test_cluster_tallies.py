"""Tallies on a Redis Cluster are compared and repaired at one ledger batch number too.

A script may touch one slot only, and a contest's tally hashes spread over the shards,
so on a cluster each voting country is a scope of its own: its applied hash shares its
tally's hash tag. The same steps as on one server (tests/service/test_tally_cut.py) must
end the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, example, given, settings

from service.stores import redis_keys as keys
from service.stores.redis import create_redis
from tests.conftest import Stores
from tests.scaleout.cluster import Cluster, start_cluster
from tests.service.tally_world import RACES, World, play, quiet_pool, steps

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = start_cluster(Path(tmp_path_factory.mktemp("tally-cluster")))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
async def pool(stores: Stores) -> AsyncIterator[asyncpg.Pool]:
    async with quiet_pool(stores.database_url) as opened:
        yield opened


@pytest.fixture(scope="module")
async def redis(cluster: Cluster) -> AsyncIterator[Any]:
    client = create_redis(cluster.url)
    await client.initialize()
    yield client
    await client.aclose()


async def test_each_voting_country_holds_its_batches_in_its_own_tally_slot(
        pool: asyncpg.Pool, redis: Any) -> None:
    world = await World.open(pool, redis)
    await world.commit([("KZ", "UZ"), ("WW", "AM"), ("WW", "AM")])
    await world.deliver(0, again=True)
    await world.deliver(0)
    live, ledger = await world.counts()
    assert live == ledger == {"KZ": {"UZ": 1}, "WW": {"AM": 2}}
    for country in ("KZ", "WW"):
        applied = keys.applied(world.cid, country)
        assert redis.keyslot(applied) == redis.keyslot(keys.tally(world.cid, country))
        assert await redis.hgetall(applied) == {b"h": b"1"}
    assert not await redis.exists(keys.applied(world.cid, "UZ"))  # no vote from UZ yet


async def test_a_flushed_cluster_is_reported_and_rebuilt_country_by_country(
        pool: asyncpg.Pool, redis: Any) -> None:
    world = await World.open(pool, redis)
    for country in ("KZ", "UZ", "WW", "KZ"):
        await world.commit([(country, "MN")])
        await world.deliver(0)
    await world.flush()
    await world.commit([("UZ", "MN")])
    await world.deliver(0)
    found = await world.check.compare(world.contest, settle_s=0)
    assert (found.ok, found.batch, found.ledger_total, found.live_total) == (False, 5, 5, 1)
    assert [(d.country, d.live, d.ledger) for d in found.differences] == [
        ("KZ", 0, 2), ("UZ", 1, 2), ("WW", 0, 1)]
    assert await world.recount() == 4
    live, ledger = await world.counts()
    assert live == ledger
    assert (await world.check.compare(world.contest, settle_s=0)).ok


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(script=steps)
@example(script=RACES[0])
@example(script=RACES[1])
@example(script=RACES[2])
async def test_any_interleaving_on_a_cluster_converges_and_never_counts_twice(
        pool: asyncpg.Pool, redis: Any, script: list[tuple[Any, ...]]) -> None:
    await play(await World.open(pool, redis), script)
