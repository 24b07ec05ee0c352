"""Benchmark of the ledger function alone: `record_votes` by batch size as a contest fills.

A show's ledger partitions fill before autovacuum analyzes them. This drives one
contest's ledger from empty, without ANALYZE, in rounds of batches of several sizes
(fresh votes, 600 voters taking turns as in the bench, a new voter after 20 votes) and
prints the median time per batch and per vote in each round. Run it against the
machine's PostgreSQL (autovacuum off there) to see what the statistics do; with
`--migrations-up-to 0005` it shows the duplicate check that scanned the whole contest.

Run: ``.venv/bin/python -m loadtests.bench_ledger [--rounds 4]`` from the repository
root: in a fresh database on the machine's servers when DATABASE_URL and REDIS_URL are
set, else on embedded ones (the stores of the test harness, as the bench uses them).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

from loadtests.bench.plan import CAP
from service.contests.repository import create_ledger_partition
from service.core.config import REPO_ROOT
from service.intake.ledger import PendingVote, record_votes
from tests.harness.stores import open_stores

SIZES = (1, 44, 1000, 10_000)
COUNTRIES = ("AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR")


class Voters:
    """600 voters taking turns; one who used the cap is replaced by a new one."""

    def __init__(self) -> None:
        self._voters = [secrets.token_bytes(32) for _ in range(600)]
        self._used = [0] * 600
        self._turn = 0

    def batch(self, contest: str, size: int) -> list[PendingVote]:
        votes = []
        for _ in range(size):
            slot = self._turn % len(self._voters)
            self._turn += 1
            if self._used[slot] >= CAP:
                self._voters[slot], self._used[slot] = secrets.token_bytes(32), 0
            self._used[slot] += 1
            country = COUNTRIES[slot % len(COUNTRIES)]
            entry = COUNTRIES[(slot + 1) % len(COUNTRIES)]
            votes.append(PendingVote(contest, secrets.token_bytes(32), self._voters[slot],
                                     country, entry, "app"))
        return votes


def migrations_up_to(last: str | None) -> Path:
    """The migrations folder, or a copy holding only those up to `last` (e.g. 0005)."""
    if last is None:
        return REPO_ROOT / "migrations"
    folder = Path(tempfile.mkdtemp(prefix="ledger-migrations-"))
    for sql in sorted((REPO_ROOT / "migrations").glob("*.sql")):
        if sql.name[:4] <= last:
            shutil.copy(sql, folder)
    return folder


async def run(url: str, rounds: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO contests (id, name, rules, vote_cap, jury_size, "
                           "window_state) VALUES ('bench', 'ledger bench', '{}', $1, 5, "
                           "'open')", CAP)
        await create_ledger_partition(conn, "bench")
        voters, stored = Voters(), 0
        print(f"{'ledger votes':>12} " + " ".join(f"{f'{n:,}-vote batch':>26}" for n in SIZES))
        for _ in range(rounds):
            cells = []
            for size in SIZES:
                times = []
                for _ in range(max(3, 4000 // size)):
                    batch = voters.batch("bench", size)
                    started = time.perf_counter()
                    await record_votes(conn, "bench", batch)
                    times.append(time.perf_counter() - started)
                    stored += size
                median = statistics.median(times)
                cells.append(f"{median * 1000:9.2f} ms {median / size * 1e6:7.0f} µs/vote")
            print(f"{stored:>12,} " + " ".join(f"{c:>26}" for c in cells), flush=True)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--migrations-up-to", metavar="NNNN",
                        help="apply only the migrations up to this number (e.g. 0005)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    stores = asyncio.run(open_stores(folder, migrations=migrations_up_to(args.migrations_up_to),
                                     prefix="silkvote_bench"))
    try:
        asyncio.run(run(stores.database_url, args.rounds))
    finally:
        asyncio.run(stores.close())
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
