"""The Redis client: live tallies, pub/sub and rate limits. Everything here is derived
data that `silkvote recount` can rebuild from the ledger."""

from __future__ import annotations

import hashlib
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError


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
    """Whether `client` talks to a Redis Cluster (which refuses PUBLISH in a pipeline)."""
    return isinstance(client, RedisCluster)


class LuaScript:
    """A Lua script run by its SHA1 (`EVALSHA`), sent in full only when the server lacks it.

    Why scripts: redis-py spends about 10 µs of Python packing and parsing each command
    of a pipeline. Work that is one command per cell or per key (tallies, rate counters)
    becomes one command in all. Keys of one call must share a hash slot on a Redis
    Cluster, so callers keep their pipelines there (`is_cluster`).
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def run(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:  # a fresh or flushed server: EVAL also caches it for next time
            return await client.eval(self.source, len(keys), *keys, *args)
