"""A flushed Redis under a flood of votes: repair is honest while the votes keep coming.

Tallies are compared with the ledger at one ledger batch number (service/intake/
tally_cut.py), so drift is found and repaired while every cell moves. Here single votes
and aggregator batches flood two service processes, Redis is flushed (FLUSHALL) in the
middle, and without the flood ever stopping: the board (results?source=live and the
websocket) is exact again within 5 s; `POST …/verify` and `silkvote verify` report the
missing votes; `silkvote recount` repairs them.

"Exact while votes flow" is checked against the ledger read through the test's own
connection: every vote the ledger held LAG_S before the board was read is on the board,
and the board holds nothing the ledger did not hold right after. LAG_S is the allowance
for tally updates in flight (milliseconds when healthy), not a wait for a condition.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from service.intake.ledger import APP_SOURCE, app_dedupe_key
from service.security.credentials import voter_hash
from service.stores.postgres import connect
from service.stores.redis import create_redis
from tests.conftest import REPO, LiveServer
from tests.harness.waiting import eventually
from tests.reliability.rig import (
    ENTRIES,
    VOTER_KEY,
    Rig,
    VoteLog,
    make_voters,
    on_own_stores,
    open_contest,
    run_load,
)
from tests.service.test_live import ws_url

pytestmark = [
    pytest.mark.slow,
    on_own_stores("these tests flush their own embedded Valkey"),
]
CAP = 50
LAG_S = 1.0  # an update in flight lands well within this on a loaded 2-core host
EXACT_WITHIN_S = 5.0
FLOOD_BEFORE_S = 2.0  # seconds of flood before the flush: its length is the scenario
BATCH = 40
BATCH_COUNTRIES = ["KZ", "UZ", "WW"]

Counts = dict[str, dict[str, int]]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await Rig.start(tmp_path)
    yield rig
    rig.stop()


class Flood:
    """Single votes (rig.run_load) and aggregator batches until stopped."""

    def __init__(self, rig: Rig, servers: list[LiveServer], cid: str) -> None:
        self.rig, self.servers, self.cid = rig, servers, cid
        self.log, self.stop = VoteLog(), asyncio.Event()
        self.batch_statuses: dict[int, int] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        voters = await make_voters(self.servers[0], self.cid, 600)
        self.tasks.append(asyncio.create_task(
            run_load(self.servers, self.cid, voters, self.log, self.stop, concurrency=12)))
        for server in self.servers:
            self.tasks.append(asyncio.create_task(self._batches(server)))

    async def _batches(self, server: LiveServer) -> None:
        ids = count()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
            r = await api.post(f"/api/v1/contests/{self.cid}/aggregator-keys",
                               json={"name": f"telco-{server.port}"}, headers=server.admin)
            partner = {"Authorization": f"Bearer {r.json()['key']}"}
            while not self.stop.is_set():
                n = next(ids)
                votes = [{"id": f"{n}-{i}", "voter": f"+99{server.port}{n:06d}{i:02d}",
                          "country": BATCH_COUNTRIES[i % 3], "entry": ENTRIES[(n + i) % 11]}
                         for i in range(BATCH)]
                r = await api.post(f"/api/v1/contests/{self.cid}/votes/batch",
                                   json={"votes": votes}, headers=partner)
                self.batch_statuses[r.status_code] = self.batch_statuses.get(r.status_code,
                                                                             0) + 1
                assert r.status_code in (200, 503), r.text

    async def finish(self) -> None:
        """Stop, and check the ledger: every acknowledged single vote once, nothing no
        client sent, no voter over the cap, and each batch vote at most once."""
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=60)
        assert self.log.acked and self.batch_statuses.get(200), "the flood produced nothing"
        conn = await connect(self.rig.stores.database_url)
        try:
            rows = await conn.fetch("SELECT dedupe_key, voter_hash, voter_seq, source FROM votes "
                                    "WHERE contest_id = $1", self.cid)
        finally:
            await conn.close()
        key_of = {app_dedupe_key(voter_hash(VOTER_KEY, self.cid, voter), key): key
                  for key, (voter, _) in self.log.attempted.items()}
        singles = [r for r in rows if r["source"] == APP_SOURCE]
        assert all(bytes(r["dedupe_key"]) in key_of for r in singles), "a vote nobody sent"
        assert self.log.acked <= {key_of[bytes(r["dedupe_key"])] for r in singles}
        assert max(r["voter_seq"] for r in singles) <= CAP
        batched = len(rows) - len(singles)
        assert batched <= BATCH * sum(self.batch_statuses.values()), "a batch vote twice"


async def ledger_counts(rig: Rig, cid: str) -> Counts:
    conn = await connect(rig.stores.database_url)
    try:
        rows = await conn.fetch("SELECT voting_country, entry, count(*)::int AS n FROM votes "
                                "WHERE contest_id = $1 GROUP BY 1, 2", cid)
    finally:
        await conn.close()
    counts: Counts = {}
    for row in rows:
        counts.setdefault(row["voting_country"], {})[row["entry"]] = row["n"]
    return counts


def total(counts: Counts) -> int:
    return sum(n for row in counts.values() for n in row.values())


def outside(board: Counts, low: Counts, high: Counts) -> list[tuple[str, str, int, int, int]]:
    """Cells where the board is not between two readings of the ledger."""
    cells = {(c, e) for counts in (board, low, high) for c, row in counts.items() for e in row}
    found = []
    for c, e in sorted(cells):
        lo, seen, hi = (x.get(c, {}).get(e, 0) for x in (low, board, high))
        if not lo <= seen <= hi:
            found.append((c, e, lo, seen, hi))
    return found


async def board_errors(rig: Rig, cid: str, read_board: Callable[[], Awaitable[Counts]]
                       ) -> tuple[list[tuple[str, str, int, int, int]], float]:
    """Cells the board gets wrong (below the ledger of LAG_S earlier, or above the ledger
    right after), and when the board was read."""
    before = await ledger_counts(rig, cid)
    await asyncio.sleep(LAG_S)  # the allowance for updates in flight, not a wait
    read_at = asyncio.get_running_loop().time()
    board = await read_board()
    return outside(board, before, await ledger_counts(rig, cid)), read_at


async def board_is_exact(rig: Rig, cid: str, read_board: Callable[[], Awaitable[Counts]]
                         ) -> list[tuple[str, str, int, int, int]]:
    return (await board_errors(rig, cid, read_board))[0]


def live_results(server: LiveServer, cid: str) -> Callable[[], Awaitable[Counts]]:
    async def read() -> Counts:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
            reply = (await api.get(f"/api/v1/contests/{cid}/results",
                                   params={"source": "live"})).json()
        return dict(reply["votes"])
    return read


class Watcher:
    """A websocket viewer that keeps reading, as a browser does."""

    def __init__(self, socket: Any) -> None:
        self.frames: list[tuple[float, Counts]] = []  # (received at, the board's votes)
        self.task = asyncio.create_task(self._read(socket))

    async def _read(self, socket: Any) -> None:
        async for text in socket:
            message = json.loads(text)
            self.frames.append((asyncio.get_running_loop().time(), message["results"]["votes"]))

    async def board(self) -> Counts:
        """The first board sent after this call (the hub builds one per tick, 0.25 s)."""
        since = asyncio.get_running_loop().time()
        frame = await eventually(lambda: [f for t, f in self.frames if t > since], 10,
                                 "a leaderboard frame", interval_s=0.01)
        return frame[0]


async def flushall(rig: Rig) -> int:
    """FLUSHALL, and the keys left right after it in the same transaction (0: no
    committer or reconciler wrote in between, so every tally was really lost)."""
    redis = create_redis(rig.stores.redis_url)
    try:
        async with redis.pipeline(transaction=True) as pipe:
            _, left = await pipe.flushall().dbsize().execute()
        return int(left)
    finally:
        await redis.aclose()


def silkvote(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=server.env,
                          cwd=REPO, capture_output=True, text=True, timeout=120)


async def test_the_board_is_exact_within_5_s_of_a_flushall_while_the_flood_goes_on(
        rig: Rig) -> None:
    servers = [rig.serve(), rig.serve()]  # each with its committer; one reconciles (1 s)
    cid = await open_contest(servers[0], CAP)
    flood = Flood(rig, servers, cid)
    await flood.start()
    async with websockets.connect(ws_url(servers[1], cid)) as socket:
        watcher = Watcher(socket)
        await asyncio.sleep(FLOOD_BEFORE_S)  # the flood's length before the fault
        assert total(await ledger_counts(rig, cid)) > 0
        assert await board_is_exact(rig, cid, live_results(servers[0], cid)) == []
        assert await board_is_exact(rig, cid, watcher.board) == []

        # the fault is real: nothing is left of the tallies (how fast the reconciler
        # puts them back varies with the host; how soon they are exact is the rule)
        assert await flushall(rig) == 0
        started = asyncio.get_running_loop().time()
        while True:  # polls until exact; each look takes LAG_S
            wrong, read_at = await board_errors(rig, cid, live_results(servers[0], cid))
            exact_after_s = read_at - started
            assert exact_after_s <= EXACT_WITHIN_S, (
                f"the board still differs {exact_after_s:.1f} s after the FLUSHALL: {wrong}")
            if not wrong:
                break
        for read in (live_results(servers[1], cid), watcher.board,
                     live_results(servers[0], cid)):  # and it stays exact, on every view
            assert await board_is_exact(rig, cid, read) == []
        watcher.task.cancel()
    await flood.finish()
    print(f"\n  acknowledged {len(flood.log.acked)} single votes, batches "
          f"{flood.batch_statuses}; board exact {exact_after_s:.1f} s after the FLUSHALL")


async def test_verify_reports_a_flushall_under_load_and_recount_repairs_it(rig: Rig) -> None:
    server = rig.serve(workers=2, RECONCILE_INTERVAL_S="3600")  # only the operator repairs
    cid = await open_contest(server, CAP)
    flood = Flood(rig, [server], cid)
    await flood.start()
    await asyncio.sleep(FLOOD_BEFORE_S)  # the flood's length before the fault
    on_board = await ledger_counts(rig, cid)
    await asyncio.sleep(LAG_S)  # every vote of `on_board` is on the board by now
    await flushall(rig)

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
        found = (await api.post(f"/api/v1/contests/{cid}/verify", headers=server.admin)).json()
    assert found["ok"] is False
    missing = found["ledger_total"] - found["live_total"]
    assert missing >= total(on_board), found
    assert sum(d["ledger"] - d["live"] for d in found["differences"]) == missing
    assert all(d["live"] < d["ledger"] for d in found["differences"]), "nothing is over"
    assert found["batch"] > 0

    verify = silkvote(server, "verify", cid)
    assert verify.returncode == 1, verify.stdout + verify.stderr
    assert "DIFFERS" in verify.stdout

    recount = silkvote(server, "recount", cid)
    assert recount.returncode == 0, recount.stdout + recount.stderr
    said = " ".join(recount.stderr.split())  # the progress console, wrapped at 80 columns
    repaired = re.search(r"(\d+) tally cells repaired \((\d+) votes\)", said)
    assert repaired and int(repaired[2]) >= total(on_board), said
    assert await board_is_exact(rig, cid, live_results(server, cid)) == []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
        again = (await api.post(f"/api/v1/contests/{cid}/verify", headers=server.admin)).json()
    assert again["ok"] is True and again["differences"] == [], again
    verify = silkvote(server, "verify", cid)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    await flood.finish()
    print(f"\n  verify found {missing} votes missing at batch {found['batch']}; "
          f"recount said: {said}")
