"""Faults during live voting: no acknowledged vote lost, none counted twice, caps hold,
tallies repaired, and the service recovers by itself (docs/reliability.md)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.rig import (
    Rig,
    VoteLog,
    check_ledger,
    make_voters,
    open_contest,
    run_load,
    wait_tallies_match,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                       reason="fault tests stop and pause their own embedded stores; "
                              "they run in the embedded pass of `make test`"),
]
CAP = 5
LOAD_S = float(os.environ.get("FAULT_LOAD_S", "2"))  # seconds of load on each side of a fault


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await Rig.start(tmp_path)
    yield rig
    rig.stop()


async def load_around(rig: Rig, servers: list, fault: object) -> tuple[str, VoteLog]:
    """Run load, call `fault()` (sync or async) mid-way, keep loading, then stop."""
    cid = await open_contest(servers[0], CAP)
    people = await make_voters(servers[0], cid, int(400 * LOAD_S))  # enough to outlast caps
    log, stop = VoteLog(), asyncio.Event()
    load = asyncio.create_task(run_load(servers, cid, people, log, stop))
    await asyncio.sleep(LOAD_S)
    result = fault()  # type: ignore[operator]
    if asyncio.iscoroutine(result):
        await result
    await asyncio.sleep(LOAD_S)
    stop.set()
    await asyncio.wait_for(load, timeout=60)
    return cid, log


async def assert_recovered(rig: Rig, cid: str, log: VoteLog) -> None:
    await check_ledger(rig, cid, log, CAP)
    settle_s = await wait_tallies_match(rig.servers[0], cid)
    print(f"\n  acknowledged {len(log.acked)}, cap-refused {len(log.capped)}, "
          f"503 answers {log.status_counts[503]}, transport errors {len(log.errors_during)}, "
          f"tallies equal to the ledger {settle_s:.1f} s after the load stopped")
    async with httpx.AsyncClient(base_url=rig.servers[0].base_url) as api:
        assert (await api.get("/healthz")).status_code == 200
    assert log.acked, "the load produced no acknowledged votes"


def worker_pids(supervisor_pid: int) -> set[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker)."""
    children = subprocess.run(["pgrep", "-P", str(supervisor_pid)], capture_output=True,
                              text=True).stdout.split()
    return {int(pid) for pid in children
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")}


async def test_kill_9_of_a_worker_mid_load_loses_and_doubles_nothing(rig: Rig) -> None:
    server = rig.serve(workers=2)
    before = worker_pids(server.proc.pid)
    assert len(before) == 2
    killed: list[int] = []

    def kill_a_worker() -> None:
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    cid, log = await load_around(rig, [server], kill_a_worker)
    after = worker_pids(server.proc.pid)
    assert killed[0] not in after and len(after) == 2, "the supervisor did not replace it"
    await assert_recovered(rig, cid, log)


async def test_redis_flushed_then_restarted_empty_mid_load(rig: Rig) -> None:
    first, second = rig.serve(), rig.serve()

    async def flush_and_restart() -> None:
        from service.stores.redis import create_redis

        redis = create_redis(rig.stores.redis_url)
        await redis.flushall()
        await redis.aclose()
        await asyncio.sleep(0.5)
        rig.restart_valkey_empty()

    cid, log = await load_around(rig, [first, second], flush_and_restart)
    await assert_recovered(rig, cid, log)


async def test_postgres_down_10s_answers_503_never_201_and_reconnects(rig: Rig) -> None:
    server = rig.serve()
    outage_s = float(os.environ.get("FAULT_PG_OUTAGE_S", "10"))
    statuses_during: list[int] = []

    async def outage() -> None:
        rig.stop_postgres()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as api:
            r = await api.get("/healthz")
            assert r.status_code == 503
            await asyncio.sleep(outage_s / 2)
            statuses_during.append((await api.get("/healthz")).status_code)
        await asyncio.sleep(outage_s / 2)
        rig.start_postgres()

    cid, log = await load_around(rig, [server], outage)
    assert statuses_during == [503]
    assert log.status_counts[503] > 0, "no vote met the outage"
    await assert_recovered(rig, cid, log)


async def test_a_postgres_stall_longer_than_the_timeout_fails_cleanly(rig: Rig) -> None:
    server = rig.serve(DB_TIMEOUT_S="1")

    async def stall() -> None:
        rig.pause_postgres(True)
        await asyncio.sleep(3)
        rig.pause_postgres(False)

    cid, log = await load_around(rig, [server], stall)
    await assert_recovered(rig, cid, log)
