"""Ledger batches (migrations/0007): every record_votes call that accepts votes takes its
contest's next number, the numbers have no gaps and commit in order, a batch waits for
the one ahead of it only for its number (its votes are written first), and the ledger
read "at batch C" is exactly the votes of batches 1..C."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from service.contests.models import ContestIn
from service.contests.repository import ContestStore
from service.intake.ledger import (
    PendingVote,
    held_cells,
    ledger_counts,
    ledger_cut,
    record_votes,
)
from service.intake.tally_cut import Counts, HeldCells, LedgerCut, Scope, judge
from service.stores.postgres import connect, create_pool
from tests.conftest import Stores
from tests.harness.server import contest_body
from tests.service.tally_world import quiet_database


@pytest.fixture(scope="module")
async def database(stores: Stores) -> AsyncIterator[str]:
    async with quiet_database(stores.database_url) as url:
        yield url


@pytest.fixture(scope="module")
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    opened = await create_pool(database)
    yield opened
    await opened.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as held:
        yield held


@pytest.fixture
async def cid(pool: asyncpg.Pool) -> str:
    store = ContestStore(pool)
    created = await store.create(msgspec.convert(contest_body(), ContestIn), 10_000)
    assert created is not None and await store.set_window(created, "open")
    return created


def votes(cid: str, cells: list[tuple[str, str]]) -> list[PendingVote]:
    return [PendingVote(cid, os.urandom(32), os.urandom(32), c, e, "app") for c, e in cells]


async def test_batches_are_numbered_without_gaps_even_when_one_rolls_back(
        conn: asyncpg.Connection, cid: str) -> None:
    first = await record_votes(conn, cid, votes(cid, [("KZ", "UZ")]))
    tr = conn.transaction()
    await tr.start()
    await record_votes(conn, cid, votes(cid, [("KZ", "UZ")]))
    await tr.rollback()  # a batch that failed: its number is taken again
    again = await record_votes(conn, cid, votes(cid, [("KZ", "UZ"), ("WW", "AM")]))
    assert [d.batch for d in first] == [1]
    assert [d.batch for d in again] == [2, 2]
    rows = await conn.fetch("SELECT batch, countries, entries, votes FROM ledger_batches "
                            "WHERE contest_id = $1 ORDER BY batch", cid)
    assert [(r["batch"], sorted(zip(r["countries"], r["entries"], r["votes"], strict=True)))
            for r in rows] == [(1, [("KZ", "UZ", 1)]), (2, [("KZ", "UZ", 1), ("WW", "AM", 1)])]


async def test_a_call_that_accepts_nothing_takes_no_number(conn: asyncpg.Connection,
                                                          cid: str) -> None:
    batch = votes(cid, [("KZ", "UZ")])
    assert [d.batch for d in await record_votes(conn, cid, batch)] == [1]
    resent = await record_votes(conn, cid, batch)  # every vote a duplicate
    assert [(d.outcome, d.batch) for d in resent] == [("duplicate", 0)]
    assert await conn.fetchval("SELECT batch FROM ledger_heads WHERE contest_id = $1", cid) == 1


async def test_a_batch_writes_its_votes_before_it_waits_for_the_number_ahead(
        database: str, cid: str) -> None:
    """Batches of one contest wait for one another only for the number and the commit,
    so the contest's writes still run side by side."""
    ahead, behind, probe = [await connect(database) for _ in range(3)]
    try:
        tr = ahead.transaction()
        await tr.start()
        await record_votes(ahead, cid, votes(cid, [("KZ", "AZ")]))  # holds the number
        waiting = votes(cid, [("UZ", "AM")] * 200)
        second = asyncio.create_task(record_votes(behind, cid, waiting))

        async def blocked_on_the_head() -> bool:
            return bool(await probe.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'transactionid' "
                "AND query LIKE '%record_votes%'"))

        deadline = asyncio.get_running_loop().time() + 10
        while not await blocked_on_the_head():
            assert asyncio.get_running_loop().time() < deadline, "the batch never waited"
            await asyncio.sleep(0.02)
        # its last vote is written already: inserting that key waits for it, too
        await probe.execute("SET lock_timeout = '200ms'")
        last = waiting[-1]
        with pytest.raises(asyncpg.LockNotAvailableError):
            await probe.execute(
                "INSERT INTO votes (contest_id, dedupe_key, voter_hash, voting_country, entry, "
                "voter_seq, source) VALUES ($1, $2, $3, 'UZ', 'AM', 1, 'app') "
                "ON CONFLICT DO NOTHING", cid, last.dedupe_key, last.voter_hash)
        await tr.commit()
        decided = await asyncio.wait_for(second, 10)
        assert {d.batch for d in decided} == {2}
    finally:
        for c in (ahead, behind, probe):
            await c.close()


async def test_the_ledger_at_a_batch_is_the_votes_of_batches_up_to_it(
        conn: asyncpg.Connection, cid: str) -> None:
    seen: list[Counts] = [{}]
    for cells in ([("KZ", "UZ")], [("KZ", "UZ"), ("WW", "AM")], [("WW", "GE")] * 3):
        await record_votes(conn, cid, votes(cid, cells))
        seen.append(await ledger_counts(conn, cid))
    for cut, expected in enumerate(seen):
        at = await ledger_cut(conn, cid, cut)
        assert (at.cut, at.counts) == (cut, expected)


async def test_the_ledger_adds_up_the_batches_each_scope_holds_above_the_cut(
        conn: asyncpg.Connection, cid: str) -> None:
    """What the reconciler reads after Redis: per scope, the cells (of its countries) of
    the batches it holds above the cut, added up by PostgreSQL, and the ledger's head; a
    scope that holds a batch the ledger does not have gets no sums, and is judged
    ahead of the ledger."""
    pattern = [[("KZ", "UZ")], [("KZ", "UZ"), ("WW", "AM")], [("WW", "GE")] * 3, [("UZ", "KZ")]]
    cells_of = {}
    for n in range(1, 41):
        cells_of[n] = pattern[n % 4]
        await record_votes(conn, cid, votes(cid, cells_of[n]))
    server = Scope("applied", ["KZ", "UZ", "WW"], top=30, above={33, 34, 36})
    country = Scope("applied:WW", ["WW"], top=5, above={12, 13, 14, 15, 20})  # a cluster's
    beyond = Scope("applied:KZ", ["KZ"], top=40, above={42})

    def expected(scope: Scope) -> Counts:
        sums: Counts = {}
        for batch in range(11, 41):
            for c, e in cells_of[batch] if scope.holds(batch) else []:
                if c in scope.countries:
                    sums.setdefault(c, {})[e] = sums.get(c, {}).get(e, 0) + 1
        return sums

    held = await held_cells(conn, cid, [server, country, beyond], 10)
    assert held[:2] == [HeldCells(40, expected(server)), HeldCells(40, expected(country))]
    assert held[2] == HeldCells(40, None)
    assert judge(beyond, LedgerCut(10, {}), held[2]).ahead
    assert await held_cells(conn, cid, [Scope("applied", ["KZ"], top=10)], 10) == [
        HeldCells(40, {})]  # nothing held above the cut: only the head is read
