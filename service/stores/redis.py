"""The Redis client: live tallies, pub/sub and rate limits. Everything here is derived
data that `silkvote recount` can rebuild from the ledger."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster


def create_redis(url: str) -> Any:
    """A client for a single server, or for a Redis Cluster when the URL says so."""
    if url.startswith("redis+cluster://"):
        return RedisCluster.from_url("redis://" + url.removeprefix("redis+cluster://"))
    return aioredis.from_url(url, max_connections=64, health_check_interval=30)


def create_pubsub_redis(url: str) -> Any:
    """A client for subscribing. On a cluster, plain PUBLISH reaches every node, so a
    connection to the seed node hears every notice."""
    if url.startswith("redis+cluster://"):
        url = "redis://" + url.removeprefix("redis+cluster://")
    return aioredis.from_url(url, health_check_interval=30)


def is_cluster(client: Any) -> bool:
    """Whether `client` talks to a Redis Cluster. A cluster refuses PUBLISH in a pipeline
    and a script whose keys span slots, so callers fall back to plain pipelines there.

    Elsewhere multi-key updates are one Lua script call (redis-py's `register_script`:
    EVALSHA, and the full script only when the server lacks it): redis-py spends about
    10 µs of Python packing and parsing each pipelined command."""
    return isinstance(client, RedisCluster)

