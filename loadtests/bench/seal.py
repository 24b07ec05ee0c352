"""`python -m loadtests.bench.seal --votes N`: seal, export and audit N votes, timed.

The votes are generated straight into the ledger by one set-based INSERT … SELECT over
generate_series (the vote path is not what is measured here; `make bench` measures
that), into a contest with a closed window and no jury. Then, each timed on its own:

* seal: `Sealer.seal` (COPY of every canonical record → leaf hashes → chunk roots → root,
  signature, chunks stored);
* export: `export_ledger` (the records compared with the sealed leaves as they are
  written, plus the summary);
* audit: `Audit(folder).run()` (signature, root, every record, the rescore), offline.

Stores: DATABASE_URL and REDIS_URL when both are set (a fresh database on that server),
else embedded ones. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

import click
import msgspec

from service.contests.demo import demo_definition
from service.contests.repository import insert_contest
from service.seal.exports import export_ledger
from service.seal.keys import SealKeys
from service.seal.sealer import Sealer
from service.stores.postgres import connect
from service.verify.audit import Audit
from tests.harness.stores import open_stores

CONTEST = "bench-seal"
COUNTRIES = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR", "WW"]
CHANNELS = ["app", "app", "app", "sms", "call", "telco-one"]

GENERATE = """
INSERT INTO votes (contest_id, dedupe_key, voter_hash, voting_country, entry, voter_seq,
                   source, channel, received_at)
SELECT $1, sha256(int8send(i)), sha256(int8send(i / 20)),
       ($2::text[])[1 + i % 13],
       ($3::text[])[1 + (i / 13 + (i % 13)) % 12],
       1 + i % 20, 'app', ($4::text[])[1 + i % 6],
       timestamptz '2026-05-16 20:00:00+00' + (i % 1800000) * interval '1 millisecond'
  FROM generate_series($5::bigint, $6::bigint) AS i
 WHERE ($2::text[])[1 + i % 13] <> ($3::text[])[1 + (i / 13 + (i % 13)) % 12]
"""


async def generate(url: str, votes: int) -> int:
    conn = await connect(url)
    try:
        definition = msgspec.structs.replace(demo_definition(), id=CONTEST, jury_size=0,
                                             jury_min_valid=0)
        await insert_contest(conn, definition, 1000)
        entries = [e.country for e in definition.entries]
        step = 1_000_000
        for start in range(0, votes, step):
            await conn.execute(GENERATE, CONTEST, COUNTRIES, entries, CHANNELS, start,
                               min(start + step, votes) - 1, timeout=None)
        await conn.execute(f"ANALYZE votes_{CONTEST.replace('-', '_')}")
        return int(await conn.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1",
                                       CONTEST))
    finally:
        await conn.close()


Row = tuple[str, float, float, int]  # step, wall seconds, this process's CPU seconds, records


def timed(name: str, started: tuple[float, float], records: int) -> Row:
    return (name, time.perf_counter() - started[0], time.process_time() - started[1], records)


def now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


async def run(votes: int) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="bench-seal-"))
    stores = await open_stores(work, prefix="silkvote_bench")
    try:
        started = time.perf_counter()
        n = await generate(stores.database_url, votes)
        print(f"generated {n} votes in {time.perf_counter() - started:.1f} s")
        rows: list[Row] = []
        sealer = Sealer(stores.database_url, SealKeys("bench-seal"))
        started = now()
        row, _ = await sealer.seal(CONTEST)
        rows.append(timed("seal", started, row["records"]))
        started = now()
        await sealer.index_receipts(CONTEST)
        rows.append(timed("receipt index (after the seal, background)", started,
                          row["records"]))
        started = now()
        await export_ledger(stores.database_url, CONTEST, work / "export")
        rows.append(timed("export --ledger", started, row["records"]))
        started = now()
        audit = Audit(work / "export")
        ok = audit.run()
        rows.append(timed("audit (offline)", started, row["records"]))
        if not ok:
            raise SystemExit(f"audit failed: {[c for c in audit.checks if not c.ok]}")
        return rows
    finally:
        await stores.close()
        if not os.environ.get("BENCH_KEEP"):  # BENCH_KEEP=1 keeps the export to look at
            shutil.rmtree(work, ignore_errors=True)


@click.command()
@click.option("--votes", type=int, default=1_000_000, show_default=True)
def main(votes: int) -> None:
    rows = asyncio.run(run(votes))
    load = os.getloadavg()[0]
    print(f"\n{votes:,} votes, {os.cpu_count()} cores, load average {load:.1f}\n")
    print("| step | wall s | records/s | Python CPU s |")
    print("|---|---:|---:|---:|")
    for name, seconds, cpu, records in rows:
        print(f"| {name} | {seconds:.1f} | {records / seconds:,.0f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
