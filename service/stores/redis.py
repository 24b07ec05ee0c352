"""The Redis client: live tallies, pub/sub and rate limits. Everything here is derived
data that `silkvote recount` can rebuild from the ledger.

`REDIS_URL` names one server (`redis://`, `rediss://`, `unix://`), a Redis Cluster
(`redis+cluster://host:port`), or a primary watched by Sentinels:

    redis+sentinel://[[user]:password@]host1:port1,host2:port2,host3:port3/<master>[/<db>]

For Sentinel, every new connection asks the Sentinels where the primary `<master>` is
now (redis-py's `redis.asyncio.sentinel`), so after a promotion every client of every
process reaches the new primary by itself, without a restart or a DNS change. A port
left out is Sentinel's 26379; the credentials are the data nodes' (the Sentinels are
reached without); the form is checked with the settings (`service/core/redis_url.py`).
Scripts survive a promotion too: the new primary answers EVALSHA
with NOSCRIPT, and redis-py's `Script` loads the script again and retries.
"""

from __future__ import annotations

from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from service.core.redis_url import SENTINEL_SCHEME, parse_sentinel_url

# A hung server fails a command after this (else it would wait forever), and an address
# that does not answer fails a connect after it (else the OS's minutes).
COMMAND_TIMEOUT_S = 2.0
SENTINEL_TIMEOUT_S = 0.5  # a Sentinel that is slow to say where the primary is: ask the next


def _retry() -> Retry:
    """Retries as redis-py's own default (10, from 10 ms doubling to 1 s), so through a
    promotion a command waits for the new primary rather than failing; a
    sentinel-managed pool would have none. Only connection errors are retried: a command
    that timed out may still run once the server wakes, and sent again it would count
    its increments twice."""
    return Retry(ExponentialWithJitterBackoff(base=0.01, cap=1), 10,
                 supported_errors=(RedisConnectionError,))


class HiredisPacking:
    """Connection mixin: commands packed by hiredis (C) rather than redis-py's Python loop.

    redis-py packs with hiredis in its sync client only. The tally update after each
    ledger batch carries three arguments per cell it moves; packed in Python that was
    about 37 µs a call, a few percent of a vote's CPU, and hiredis does it in 5. The bytes
    are the same (`tests/service/test_redis_packing.py`). Anything hiredis does not take
    (a memoryview, or a value redis-py refuses) goes to redis-py's own packing, which
    chunks the one and names the other in its error."""

    def pack_command(self, *args: Any) -> list[bytes]:
        head = args[0]
        if isinstance(head, str):  # a command of two words ("CONFIG GET") is two arguments
            args = (*head.encode().split(), *args[1:])
        elif b" " in head:
            args = (*head.split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError:
            return super().pack_command(*args)  # type: ignore[misc, no-any-return]


def packed_by_hiredis(client: Any) -> Any:
    """`client`, its pool's connections made as `HiredisPacking` ones (the pool makes them
    as it needs them, so none exists yet)."""
    pool = client.connection_pool
    base = pool.connection_class
    if not issubclass(base, HiredisPacking):
        pool.connection_class = type(base.__name__, (HiredisPacking, base), {})
    return client


class SentinelPrimary(aioredis.Redis):
    """A client of whichever server the Sentinels name as primary. Closing it also closes
    its connections to the Sentinels, which redis-py leaves to the caller."""

    sentinels: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinels is not None:
            await self.sentinels.aclose()


def _sentinel_primary(url: str, **options: Any) -> SentinelPrimary:
    address = parse_sentinel_url(url)
    sentinels = Sentinel(address.sentinels, sentinel_kwargs={
        "socket_timeout": SENTINEL_TIMEOUT_S, "socket_connect_timeout": SENTINEL_TIMEOUT_S})
    client: SentinelPrimary = sentinels.master_for(
        address.master, redis_class=SentinelPrimary, db=address.db,
        username=address.username, password=address.password,
        socket_connect_timeout=COMMAND_TIMEOUT_S, **options)
    client.sentinels = sentinels
    return client


def create_redis(url: str) -> Any:
    """A client for a single server, a Redis Cluster or a Sentinel-watched primary, as
    the URL says."""
    if url.startswith("redis+cluster://"):
        return RedisCluster.from_url("redis://" + url.removeprefix("redis+cluster://"))
    options: dict[str, Any] = {"max_connections": 64, "health_check_interval": 30,
                               "socket_timeout": COMMAND_TIMEOUT_S, "retry": _retry()}
    if url.startswith(SENTINEL_SCHEME):
        return packed_by_hiredis(_sentinel_primary(url, **options))
    return packed_by_hiredis(
        aioredis.from_url(url, socket_connect_timeout=COMMAND_TIMEOUT_S, **options))


def create_pubsub_redis(url: str) -> Any:
    """A client for subscribing (no command timeout: a quiet channel is not a hung
    server). On a cluster, plain PUBLISH reaches every node, so a connection to the seed
    node hears every notice; with Sentinel, a reconnect finds the current primary."""
    if url.startswith("redis+cluster://"):
        url = "redis://" + url.removeprefix("redis+cluster://")
    if url.startswith(SENTINEL_SCHEME):
        return _sentinel_primary(url, health_check_interval=30, retry=_retry())
    return aioredis.from_url(url, health_check_interval=30, retry=_retry())


def is_cluster(client: Any) -> bool:
    """Whether `client` talks to a Redis Cluster. A cluster refuses PUBLISH in a pipeline
    and a script whose keys span slots, so callers fall back to plain pipelines there.

    Elsewhere multi-key updates are one Lua script call (redis-py's `register_script`:
    EVALSHA, and the full script only when the server lacks it): redis-py spends about
    10 µs of Python packing and parsing each pipelined command."""
    return isinstance(client, RedisCluster)

