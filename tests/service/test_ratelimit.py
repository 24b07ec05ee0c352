"""The rate limiter: local first, shared through Redis once a key gets busy."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from service.core.errors import ApiError
from service.security.ratelimit import SHARE_FROM, SYNC_DELAY_S, RateLimiter, rate_key
from service.stores.redis import create_redis
from tests.conftest import Stores
from tests.harness.waiting import eventually

HOUR = 3600  # a long window, so that no test straddles two windows


async def admitted(limiters: list[RateLimiter], identity: str, limit: int, hits: int) -> int:
    """Send `hits` hits round-robin over the limiters ("processes"); count the admitted."""
    count = 0
    for i in range(hits):
        try:
            limiters[i % len(limiters)].enforce("test", identity, limit, window_s=HOUR)
            count += 1
        except ApiError as refusal:
            assert refusal.status == 429 and refusal.code == "rate_limited"
        # a pace, not a wait for a condition: hits arrive spread out, as real traffic does,
        # so shared counts travel between them
        await asyncio.sleep(SYNC_DELAY_S * 2)
    return count


async def test_one_process_admits_exactly_the_limit(stores: Stores) -> None:
    redis = create_redis(stores.redis_url)
    try:
        assert await admitted([RateLimiter(redis)], uuid.uuid4().hex, 10, 25) == 10
    finally:
        await redis.aclose()


async def test_hits_spread_over_processes_are_limited_by_the_shared_count(stores: Stores) -> None:
    redis = create_redis(stores.redis_url)
    try:
        limiters = [RateLimiter(redis), RateLimiter(redis), RateLimiter(redis)]
        count = await admitted(limiters, uuid.uuid4().hex, 10, 60)
        assert 10 <= count <= 10 + len(limiters) * (SHARE_FROM - 1)
    finally:
        await redis.aclose()


async def test_an_occasional_voter_costs_no_redis_command(stores: Stores) -> None:
    redis = create_redis(stores.redis_url)
    try:
        identity, busy = uuid.uuid4().hex, uuid.uuid4().hex
        limiter = RateLimiter(redis)
        limiter.enforce("test", identity, 10, window_s=HOUR)
        # A busy key makes the limiter share; a share sends every unsent hit at once, so
        # once the busy key's count is in Redis, the occasional hit would be there too.
        for _ in range(SHARE_FROM):
            limiter.enforce("test", busy, 10, window_s=HOUR)
        await eventually(lambda: redis.exists(rate_key("test", busy, HOUR)), 5,
                         "the busy key's hits to be shared through Redis")
        assert await redis.exists(rate_key("test", identity, HOUR)) == 0
    finally:
        await redis.aclose()


async def test_without_redis_the_limit_still_holds_in_each_process() -> None:
    unreachable = create_redis("redis://127.0.0.1:9/0")
    try:
        assert await admitted([RateLimiter(unreachable)], uuid.uuid4().hex, 5, 12) == 5
    finally:
        await unreachable.aclose()


@pytest.mark.parametrize("limit", [0, -1])
async def test_a_limit_of_zero_turns_the_limiter_off(limit: int) -> None:
    unreachable = create_redis("redis://127.0.0.1:9/0")
    try:
        assert await admitted([RateLimiter(unreachable)], uuid.uuid4().hex, limit, 20) == 20
    finally:
        await unreachable.aclose()
