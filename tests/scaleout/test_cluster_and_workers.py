"""Scale-out: a Redis Cluster behind the tallies, and several service processes."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from service.stores import redis_keys as keys
from service.stores.redis import create_redis
from tests.conftest import LiveServer, Stores, start_server
from tests.harness.waiting import eventually
from tests.scaleout.cluster import Cluster, start_cluster
from tests.service.helpers import aggregator_headers, open_window, voter_headers
from tests.service.test_live import ws_url

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = start_cluster(tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def cluster_servers(stores: Stores, cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[list[LiveServer]]:
    """Two separate service processes sharing PostgreSQL and the Redis Cluster."""
    on_cluster = Stores(stores.database_url, cluster.url, stores.embedded)
    servers = [start_server(on_cluster, Path(tmp_path_factory.mktemp(f"c{i}")))
               for i in range(2)]
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
async def api_a(cluster_servers: list[LiveServer]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=cluster_servers[0].base_url, timeout=30) as client:
        yield client


async def test_tally_keys_of_one_contest_spread_over_the_cluster_shards(
        cluster: Cluster) -> None:
    redis = create_redis(cluster.url)
    await redis.initialize()
    try:
        slots = {redis.keyslot(keys.tally("silk-way-star", c))
                 for c in ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]}
        nodes = {redis.nodes_manager.get_node_from_slot(s).port for s in slots}
    finally:
        await redis.aclose()
    assert len(nodes) == 3


async def test_votes_caps_and_idempotency_hold_across_processes_on_a_cluster(
        cluster_servers: list[LiveServer], api_a: httpx.AsyncClient) -> None:
    first, second = cluster_servers
    cid = first.new_contest(vote_cap=10)
    await open_window(api_a, first, cid)
    voter = await voter_headers(api_a, first, cid, "+41", "KZ")
    async with httpx.AsyncClient(base_url=second.base_url, timeout=30) as api_b:
        calls = [(api_a if i % 2 else api_b).post(
            f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": f"k{i % 30}"},
            headers=voter) for i in range(60)]
        responses = await asyncio.gather(*calls)
        partner = await aggregator_headers(api_b, second, cid)
        batch = {"votes": [{"id": str(i), "voter": f"+5{i}", "country": c, "entry": "MN"}
                           for i, c in enumerate(["KZ", "UZ", "CN", "KR", "WW"] * 20)]}
        assert (await api_b.post(f"/api/v1/contests/{cid}/votes/batch", json=batch,
                                 headers=partner)).json()["accepted"] == 100
    assert sum(r.status_code == 201 for r in responses) == 10
    assert {r.status_code for r in responses} <= {200, 201, 429}

    async def verify() -> dict[str, Any]:
        r = await api_a.post(f"/api/v1/contests/{cid}/verify", headers=first.admin)
        return dict(r.json())

    verdict = await eventually(verify, 10, "the live tallies on the cluster to equal the ledger",
                               ok=lambda v: v.get("ok"))
    assert verdict["ok"] and verdict["ledger_total"] == 110


async def test_a_vote_taken_by_one_process_moves_a_websocket_on_the_other(
        cluster_servers: list[LiveServer], api_a: httpx.AsyncClient) -> None:
    first, second = cluster_servers
    cid = first.new_contest()
    await open_window(api_a, first, cid)
    voter = await voter_headers(api_a, first, cid, "+42", "UZ")
    async with websockets.connect(ws_url(second, cid)) as socket:
        await socket.recv()
        r = await api_a.post(f"/api/v1/contests/{cid}/votes",
                             json={"entry": "KZ", "key": uuid.uuid4().hex}, headers=voter)
        assert r.status_code == 201
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 5))
            if message["results"]["votes"] == {"UZ": {"KZ": 1}}:
                break
