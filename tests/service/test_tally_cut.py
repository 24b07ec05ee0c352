"""Live tallies are compared with the ledger at one ledger batch number, and repaired
there: each batch counts once on the board, whoever applies it first (its own update or
a repair), and any interleaving of commits, updates, losses and repairs ends equal to
the ledger (service/intake/tally_cut.py, on a real PostgreSQL and Redis)."""

from __future__ import annotations

from typing import Any

import asyncpg
from hypothesis import HealthCheck, example, given, settings

from service.stores import redis_keys as keys
from tests.service.tally_world import RACES, World, play, steps


async def test_a_batch_delivered_twice_counts_once(pool: asyncpg.Pool, redis: Any) -> None:
    world = await World.open(pool, redis)
    await world.commit([("KZ", "UZ"), ("KZ", "UZ"), ("WW", "AM")])
    await world.deliver(0, again=True)
    await world.deliver(0)  # a retry after a timeout, or a duplicated message
    live, ledger = await world.counts()
    assert live == ledger == {"KZ": {"UZ": 2}, "WW": {"AM": 1}}


async def test_batches_held_out_of_order_fold_into_one_number(pool: asyncpg.Pool,
                                                              redis: Any) -> None:
    world = await World.open(pool, redis)
    for _ in range(3):
        await world.commit([("KZ", "AZ")])
    await world.deliver(2)  # batch 3, then 2: held one by one above nothing
    await world.deliver(1)
    assert await redis.hgetall(keys.applied(world.cid)) == {b"2": b"1", b"3": b"1"}
    await world.deliver(0)  # batch 1 arrives: every batch up to 3 is held
    assert await redis.hgetall(keys.applied(world.cid)) == {b"h": b"3"}


async def test_a_late_update_after_the_repair_of_its_batch_is_ignored(
        pool: asyncpg.Pool, redis: Any) -> None:
    world = await World.open(pool, redis)
    await world.commit([("KZ", "UZ")])
    await world.commit([("UZ", "KZ"), ("UZ", "KZ")])
    await world.deliver(0)
    assert await world.recount() == 2  # batch 2's update is late: the repair applies it
    await world.deliver(0)  # and then it arrives
    live, ledger = await world.counts()
    assert live == ledger == {"KZ": {"UZ": 1}, "UZ": {"KZ": 2}}


async def test_verify_sees_a_flush_while_updates_of_later_batches_keep_landing(
        pool: asyncpg.Pool, redis: Any) -> None:
    world = await World.open(pool, redis)
    for _ in range(5):
        await world.commit([("KZ", "GE")])
        await world.deliver(0)
    await world.flush()
    await world.commit([("KZ", "GE")])  # batch 6, after the flush: on the board again
    await world.deliver(0)
    assert (await world.counts())[0] == {"KZ": {"GE": 1}}
    found = await world.check.compare(world.contest, settle_s=0)
    assert (found.ok, found.batch, found.ledger_total, found.live_total) == (False, 6, 6, 1)
    assert [(d.country, d.entry, d.live, d.ledger) for d in found.differences] == [
        ("KZ", "GE", 1, 6)]
    assert await world.recount() == 5
    live, ledger = await world.counts()
    assert live == ledger == {"KZ": {"GE": 6}}
    assert (await world.check.compare(world.contest, settle_s=0)).ok


async def test_two_repairs_judged_on_the_same_read_move_the_tallies_once(
        pool: asyncpg.Pool, redis: Any) -> None:
    world = await World.open(pool, redis)
    await world.commit([("WW", "AZ"), ("WW", "AZ")])
    await world.deliver(0)
    await world.lose("WW")
    head = await world.ledger.head(world.cid)
    first = await world.check.judge(world.contest, head)
    second = await world.check.judge(world.contest, head)
    await world.check.repair(world.contest, first)
    await world.check.repair(world.contest, second)  # refused, judged again: nothing left
    live, ledger = await world.counts()
    assert live == ledger == {"WW": {"AZ": 2}}


async def test_tallies_from_a_ledger_that_no_longer_exists_are_rebuilt(
        pool: asyncpg.Pool, redis: Any) -> None:
    world = await World.open(pool, redis)
    await world.commit([("KZ", "MN")])
    await world.deliver(0)
    await redis.hset(keys.applied(world.cid), mapping={"h": 40})  # a ledger restored older
    await redis.hincrby(keys.tally(world.cid, "KZ"), "MN", 39)
    found = await world.check.compare(world.contest, settle_s=0)
    assert not found.ok
    await world.recount()
    live, ledger = await world.counts()
    assert live == ledger == {"KZ": {"MN": 1}}
    await world.commit([("KZ", "MN")])  # batch 2 is counted, not taken for the old one
    await world.deliver(0)
    assert (await world.counts())[0] == {"KZ": {"MN": 2}}


@settings(max_examples=30, deadline=None,  # each example is a contest: 9 partitions
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(script=steps)
@example(script=RACES[0])
@example(script=RACES[1])
@example(script=RACES[2])
async def test_any_interleaving_converges_to_the_ledger_and_never_counts_twice(
        pool: asyncpg.Pool, redis: Any, script: list[tuple[Any, ...]]) -> None:
    """Commits, tally updates delivered in any order (some twice, some never), flushes,
    lost hashes and repairs judged at any cut and applied any time later: the board never
    shows a vote the ledger does not hold; a judgement at the newest batch with nothing
    in flight says ok only when the board equals the ledger; and once every update has
    been delivered and one recount made, the board equals the ledger, and stays equal
    when the old updates arrive once more."""
    await play(await World.open(pool, redis), script)
