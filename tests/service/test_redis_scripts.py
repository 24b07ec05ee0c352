"""Tallies and shared rate counters move in one Redis command each, on a real server."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from service.intake.tallies import add_to_tallies, read_tallies
from service.security.ratelimit import RateLimiter, rate_key
from service.stores import redis_keys as keys
from service.stores.redis import create_redis
from tests.conftest import Stores
from tests.harness.waiting import eventually


async def test_tallies_move_by_each_cell_and_the_change_is_announced(stores: Stores) -> None:
    redis = create_redis(stores.redis_url)
    contest = f"scripts-{uuid.uuid4().hex[:8]}"
    listener = redis.pubsub()
    await listener.subscribe(keys.CHANGED_CHANNEL)
    try:
        await add_to_tallies(redis, contest, Counter({("KZ", "UZ"): 3, ("KZ", "CN"): 1,
                                                      ("AM", "GE"): 2}))
        await add_to_tallies(redis, contest, Counter({("KZ", "UZ"): 1}))
        assert await read_tallies(redis, contest, ["KZ", "AM", "GE"]) == {
            "KZ": {"UZ": 4, "CN": 1}, "AM": {"GE": 2}}
        notices = []
        deadline = asyncio.get_running_loop().time() + 5
        while len(notices) < 2 and asyncio.get_running_loop().time() < deadline:
            # None also stands for the subscription's own confirmation: keep reading
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None and message["data"] == contest.encode():
                notices.append(message["data"])
        assert len(notices) == 2, "every tally move announces the change"
    finally:
        await listener.aclose()
        await redis.aclose()


async def test_a_server_that_forgot_its_scripts_still_takes_tallies(stores: Stores) -> None:
    redis = create_redis(stores.redis_url)
    contest = f"scripts-{uuid.uuid4().hex[:8]}"
    try:
        await add_to_tallies(redis, contest, Counter({("KZ", "UZ"): 1}))
        await redis.script_flush()  # a restarted or flushed Redis has no cached scripts
        await add_to_tallies(redis, contest, Counter({("KZ", "UZ"): 1}))
        assert await read_tallies(redis, contest, ["KZ"]) == {"KZ": {"UZ": 2}}
    finally:
        await redis.aclose()


async def test_shared_rate_counters_add_every_process_hits_and_expire(stores: Stores) -> None:
    redis = create_redis(stores.redis_url)
    identity = uuid.uuid4().hex
    first, second = RateLimiter(redis), RateLimiter(redis)
    try:
        for limiter in (first, second):
            for _ in range(3):
                limiter.hit(rate_key("voter", identity, 60), 60)
        key = rate_key("voter", identity, 60)

        async def shared() -> int:
            return int(await redis.get(key) or 0)

        await eventually(shared, 5, "both processes to share their hits",
                         ok=lambda total: total >= 6)
        assert await shared() == 6
        assert 0 < await redis.ttl(key) <= 61
        first.hit(key, 60)  # its next share brings back the total

        async def first_has_the_answer() -> tuple[int, int]:  # the total, shares in flight
            return await shared(), len(first._tasks)

        await eventually(first_has_the_answer, 5, "the first process's share to come back",
                         ok=lambda seen: seen == (7, 0))
        assert first.hit(key, 60) == 8, "a process learns the other's hits"
    finally:
        await redis.aclose()
