"""`python -m loadtests.bench.ledger_calls`: PostgreSQL's CPU per `record_votes` call.

Why a bench of its own: the full bench measures the ledger's CPU per vote under the
whole service, where batch sizes follow the load and every other process shares the
cores. Choices inside the ledger (how a contest's partition is split, what the SQL
function plans per call) need the call alone, by batch size, in alternating rounds, so
a host's drift between rounds shows up as spread instead of as a difference. The
figure is the backend's own CPU time (from /proc), not wall time.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
import click

from loadtests.bench.sampling import cpu_seconds
from service.contests.demo import demo_definition
from service.contests.repository import LEDGER_HASH_PARTITIONS, insert_contest, set_window
from service.intake.ledger import PendingVote, app_dedupe_key, record_votes
from service.stores.postgres import connect
from tests.harness.stores import open_stores

_CAP = 20


class Contest:
    """A demo contest with its window open, and a source of new single votes for it."""

    def __init__(self, cid: str, countries: list[str], entries: list[str]) -> None:
        self.cid = cid
        self._countries = countries
        self._entries = entries

    def votes(self, count: int) -> list[PendingVote]:
        out = []
        for i in range(count):
            voter = secrets.token_bytes(32)
            country = self._countries[i % len(self._countries)]
            entry = next(e for e in self._entries if e != country)
            out.append(PendingVote(self.cid, app_dedupe_key(voter, secrets.token_hex(8)),
                                   voter, country, entry, "app", "app",
                                   secrets.token_bytes(16), secrets.token_bytes(16)))
        return out


async def _new_contest(conn: asyncpg.Connection, partitions: int) -> Contest:
    definition = demo_definition()
    definition.id = f"ledger-calls-{partitions}-{secrets.token_hex(3)}"
    cid = await insert_contest(conn, definition, _CAP, hash_partitions=partitions)
    await set_window(conn, cid, "open")
    return Contest(cid, [c for c in definition.voting_countries if c != "WW"],
                   [e.country for e in definition.entries])


async def _cpu_per_call(conn: asyncpg.Connection, contest: Contest, size: int,
                        votes: int) -> float:
    """Microseconds of backend CPU per call of `size` new votes."""
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    calls = max(20, votes // size)
    batches = [contest.votes(size) for _ in range(calls)]
    for warm in batches[:5]:  # the function's plans, made on its first calls
        await record_votes(conn, contest.cid, warm)
    before = cpu_seconds([pid])
    for batch in batches[5:]:
        await record_votes(conn, contest.cid, batch)
    return (cpu_seconds([pid]) - before) / (calls - 5) * 1e6


async def _run(partitions: list[int], sizes: list[int], rounds: int, votes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="silkvote-ledger-calls-") as folder:
        stores = await open_stores(Path(folder), prefix="silkvote_bench")
        try:
            conn = await connect(stores.database_url)
            try:
                await _compare(conn, partitions, sizes, rounds, votes)
            finally:
                await conn.close()
        finally:
            await stores.close()


async def _compare(conn: asyncpg.Connection, partitions: list[int], sizes: list[int],
                   rounds: int, votes: int) -> None:
    figures: dict[tuple[int, int], list[float]] = {}
    started = time.monotonic()
    for number in range(1, rounds + 1):
        for parts in partitions:  # alternating: a slower moment of the host hits all alike
            contest = await _new_contest(conn, parts)
            for size in sizes:
                cpu = await _cpu_per_call(conn, contest, size, votes)
                figures.setdefault((parts, size), []).append(cpu)
        click.echo(f"round {number}/{rounds} done ({time.monotonic() - started:.0f} s)",
                   err=True)
    click.echo("| sub-partitions | votes per call | PG CPU per call, median (min–max) "
               "| per vote |")
    click.echo("|---|---|---|---|")
    for (parts, size), values in sorted(figures.items()):
        median = statistics.median(values)
        click.echo(f"| {parts} | {size} | {median:,.0f} µs ({min(values):,.0f}–"
                   f"{max(values):,.0f}) | {median / size:,.1f} µs |")


@click.command()
@click.option("--partitions", "partitions", type=int, multiple=True,
              default=[8, LEDGER_HASH_PARTITIONS], show_default=True,
              help="Hash sub-partitions of a contest's ledger to compare (repeatable).")
@click.option("--size", "sizes", type=int, multiple=True, default=[8, 32], show_default=True,
              help="Votes per record_votes call (repeatable).")
@click.option("--rounds", type=int, default=4, show_default=True)
@click.option("--votes", type=int, default=8000, show_default=True,
              help="Votes per measurement (calls = votes / size).")
def main(partitions: list[int], sizes: list[int], rounds: int, votes: int) -> None:
    """PostgreSQL CPU per record_votes call, by batch size and partition split, on
    fresh stores (embedded, or DATABASE_URL and REDIS_URL)."""
    asyncio.run(_run(list(partitions), list(sizes), rounds, votes))


if __name__ == "__main__":
    main()
