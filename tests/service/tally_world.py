"""A contest on a ledger that no server reconciles, with its live tallies, driven step by
step: commit a ledger batch, deliver (or lose, or deliver again) its tally update, lose
tallies, judge and repair. The tests of `service/intake/tally_cut.py` share it.

The ledger is a database of its own on the run's PostgreSQL (the session's servers
reconcile only their own database, so nothing repairs these contests behind a test's
back); the tallies are the run's Redis (or a cluster), under fresh contest ids.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import msgspec

from service.contests.models import Contest, ContestIn
from service.contests.repository import ContestStore
from service.intake.ledger import Decision, PendingVote, VoteLedger
from service.intake.reconcile import Judgement, TallyCheck
from service.intake.tallies import LiveTallies
from service.intake.tally_cut import Counts
from service.stores import redis_keys as keys
from service.stores.migrations import apply_url
from service.stores.postgres import connect, create_pool
from tests.harness.server import contest_body
from tests.harness.stores import MIGRATIONS

Update = list[tuple[PendingVote, Decision]]  # one batch's tally update, as published


@asynccontextmanager
async def quiet_database(database_url: str) -> AsyncIterator[str]:
    """A new database with the schema, on the server of `database_url`; dropped after."""
    name = f"silkvote_cut_{secrets.token_hex(4)}"
    admin = await connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = urlunparse(urlparse(database_url)._replace(path="/" + name))
    try:
        await apply_url(url, MIGRATIONS)
        yield url
    finally:
        admin = await connect(database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def quiet_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with quiet_database(database_url) as url:
        pool = await create_pool(url)
        try:
            yield pool
        finally:
            await pool.close()


@dataclass
class World:
    contest: Contest
    ledger: VoteLedger
    tallies: LiveTallies
    check: TallyCheck
    redis: Any
    pending: list[Update] = field(default_factory=list)  # committed, not yet delivered
    sent: list[Update] = field(default_factory=list)  # delivered or lost: may come again
    judged: list[Judgement] = field(default_factory=list)

    @classmethod
    async def open(cls, pool: asyncpg.Pool, redis: Any) -> World:
        store = ContestStore(pool)
        cid = await store.create(msgspec.convert(contest_body(), ContestIn), 10_000)
        assert cid is not None and await store.set_window(cid, "open")
        contest = await store.get(cid)
        assert contest is not None
        ledger, tallies = VoteLedger(pool, 5.0), LiveTallies(redis)
        return cls(contest, ledger, tallies, TallyCheck(ledger, tallies), redis)

    @property
    def cid(self) -> str:
        return self.contest.id

    async def commit(self, cells: list[tuple[str, str]]) -> Update:
        """One ledger batch of a vote per cell; its tally update waits to be delivered."""
        votes = [PendingVote(self.cid, os.urandom(32), os.urandom(32), c, e, "app")
                 for c, e in cells]
        update = list(zip(votes, await self.ledger.record(self.cid, votes, 5.0), strict=True))
        assert all(d.outcome == "accepted" for _, d in update)
        self.pending.append(update)
        return update

    async def deliver(self, index: int, again: bool = False) -> None:
        """Deliver a pending update; with `again` it stays pending, to come once more."""
        if self.pending:
            update = self.pending[index % len(self.pending)]
            if not again:
                self.pending.remove(update)
                self.sent.append(update)
            await self.tallies.publish_accepted(update)

    def drop(self, index: int) -> None:
        """A tally update that never arrives (a crash or a timeout after the commit)."""
        if self.pending:
            self.sent.append(self.pending.pop(index % len(self.pending)))

    async def flush(self) -> None:
        """What FLUSHALL does to this contest: its tallies and what they held are gone."""
        for key in self.keys():
            await self.redis.delete(key)

    async def lose(self, country: str) -> None:
        """Only one tally hash is lost (an eviction, a hand-made DEL)."""
        await self.redis.delete(keys.tally(self.cid, country))

    def keys(self) -> list[str]:
        countries = self.contest.voting_countries
        return [keys.applied(self.cid), *(keys.applied(self.cid, c) for c in countries),
                *(keys.tally(self.cid, c) for c in countries)]

    async def counts(self) -> tuple[Counts, Counts]:
        """(live, ledger) as the board and the official count see them now."""
        live = await self.tallies.read(self.cid, self.contest.voting_countries)
        return live, await self.ledger.counts(self.cid)

    async def recount(self) -> int:
        """Judge at the ledger's newest batch and repair; returns votes moved."""
        judgement = await self.check.judge(self.contest, await self.ledger.head(self.cid))
        return await self.check.repair(self.contest, judgement)


def over_counted(live: Counts, ledger: Counts) -> list[tuple[str, str, int, int]]:
    """Cells the board shows more votes for than the ledger holds, or fewer than none."""
    cells = {(c, e) for c, row in live.items() for e in row}
    return [(c, e, live[c][e], ledger.get(c, {}).get(e, 0)) for c, e in sorted(cells)
            if not 0 <= live[c][e] <= ledger.get(c, {}).get(e, 0)]


def without_zeros(counts: Counts) -> Counts:
    return {c: kept for c, row in counts.items() if (kept := {e: n for e, n in row.items() if n})}
