"""Losing the ledger's primary mid-show: PostgreSQL's own replication keeps every
acknowledged vote, and the service finds the promoted standby by itself.

The drill runs the pair `silkvote up --replicated` runs (a primary with a synchronous
standby), serves on it with a DATABASE_URL that lists both servers, floods votes,
`kill -9`s the primary's postmaster, promotes the standby with `pg_ctl promote`, and
checks the ledger on the new primary. Its figures go to
test-artifacts/drills/postgres-primary-kill-9.json for `make drills`
(docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from service.core.config import REPO_ROOT, ConfigError, load_settings
from service.stores.postgres import connect
from service.stores.replicated import ReplicatedPostgres
from tests.harness.replicated_postgres import (
    kill_primary,
    pause,
    replicated_stores,
    server_folder,
)
from tests.harness.server import LiveServer, free_port, wait_healthy
from tests.harness.waiting import eventually, wait_until
from tests.reliability.drills import record_drill
from tests.reliability.rig import (
    Rig,
    VoteLog,
    Voter,
    check_ledger,
    make_voters,
    on_own_stores,
    open_contest,
    run_load,
    wait_tallies_match,
)

CAP = 5
LOAD_S = float(os.environ.get("FAULT_LOAD_S", "2"))  # seconds of load on each side of the kill
DB_TIMEOUT_S = 2.0  # the servers' DB_TIMEOUT_S (the rig's default)
ANSWER_MARGIN_S = 1.0  # on top of it for any answer: a loaded 2-core host
FLOWING_WITHIN_S = 10.0  # from the kill to the first 201 of a vote sent after it
PROBE_PACE_S = 0.02  # the probe sends a vote this often
PROBE_CAP = 10_000  # the probe's contest: its voters never reach the cap
DRILL_NAME = "postgres primary kill -9"
own_stores = on_own_stores("these tests start and kill their own PostgreSQL pair")


def settings_with(database_url: str, tmp_path: Path) -> str | None:
    return load_settings({"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path),
                          "SILKVOTE_ENV_FILE": str(tmp_path / "none.env")}).database_url


@pytest.mark.stores_independent
def test_database_url_may_list_a_primary_and_its_standbys(tmp_path: Path) -> None:
    url = "postgresql://u:pw@10.0.0.1:5432,10.0.0.2:5433,[::1]:5434/ledger" \
          "?target_session_attrs=read-write"
    assert settings_with(url, tmp_path) == url
    one = "postgresql://u@db/ledger"
    assert settings_with(one, tmp_path) == one


@pytest.mark.stores_independent
@pytest.mark.parametrize(("url", "named"), [
    ("postgresql://u@h1:5432,h2:5432/db", "target_session_attrs=read-write"),
    ("postgresql://u@h1:5432,h2:5432/db?target_session_attrs=any", "read-write"),
    ("postgresql://u@h1:5432,h2:5432/db?target_session_attrs=prefer-standby", "read-write"),
    ("postgresql://u@h1:5432,,h2/db?target_session_attrs=read-write", "empty host"),
    ("postgresql://u@h1:54x2,h2/db?target_session_attrs=read-write", "'54x2' is not a port"),
    ("postgresql://u@h1/db?target_session_attrs=writable", "target_session_attrs"),
])
def test_a_multi_host_database_url_that_could_write_to_a_standby_is_refused(
        url: str, named: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL") as refused:
        settings_with(url, tmp_path)
    assert named in str(refused.value)


@pytest.mark.slow
@own_stores
def test_silkvote_up_replicated_serves_on_the_pair_prints_both_and_stops_both() -> None:
    with server_folder() as data_dir:
        check_up_replicated(data_dir)


def check_up_replicated(data_dir: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(data_dir), PORT=str(port), ADMIN_TOKEN="up-admin")
    up = subprocess.Popen([sys.executable, "-m", "service.cli", "up", "--replicated"],
                          env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    pair = ReplicatedPostgres(data_dir / "replicated")  # to read its folders, not start it
    try:
        wait_healthy(f"http://127.0.0.1:{port}", up, timeout_s=90)
        running = {name: node.pid() for name, node in pair.nodes.items()}
    finally:
        up.send_signal(signal.SIGTERM)  # what Docker, systemd and Kubernetes send
        output = up.communicate(timeout=60)[0].decode(errors="replace")
    assert up.returncode == 0, output
    assert all(running.values()), f"not both servers ran: {running}"
    ports = json.loads((pair.folder / "ports.json").read_text())  # a first start: a primary
    addresses = [f"127.0.0.1:{ports[name]}" for name in ("a", "b")]
    assert f"primary                 {addresses[0]}" in output, output
    assert f"standby                 {addresses[1]}" in output, output
    assert f"{addresses[0]},{addresses[1]}/postgres?target_session_attrs=read-write" in output
    assert all(node.pid() is None for node in pair.nodes.values()), "a server outlived `up`"


@dataclass
class Attempt:
    """One request of the probe: when it was sent and answered (loop time), and how."""

    sent: float
    answered: float
    status: int
    code: str | None  # the error body's code


@dataclass
class Probe:
    """Votes sent one after another through the failover, each retried with its key
    until answered, as a phone app does; every attempt timed."""

    attempts: list[Attempt] = field(default_factory=list)

    async def run(self, server: LiveServer, cid: str, voters: list[Voter],
                  stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        # a long timeout: a request the service holds shows up as a late answer
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
            for n in range(PROBE_CAP):
                voter, key = voters[n % len(voters)], uuid.uuid4().hex
                while not stop.is_set():
                    sent = loop.time()
                    r = await api.post(f"/api/v1/contests/{cid}/votes",
                                       json={"entry": "AZ", "key": key},
                                       headers={"Authorization": f"Bearer {voter.token}"})
                    code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
                    self.attempts.append(Attempt(sent, loop.time(), r.status_code, code))
                    await asyncio.sleep(PROBE_PACE_S)  # a pace, and a retry's backoff
                    if r.status_code in (200, 201):
                        break
                if stop.is_set():
                    return

    def first_201_sent_after(self, moment: float) -> float | None:
        """When the first vote sent after `moment` was acknowledged 201."""
        return min((a.answered for a in self.attempts
                    if a.sent >= moment and a.status == 201), default=None)


@pytest.fixture
async def failover(tmp_path: Path) -> AsyncIterator[tuple[Rig, ReplicatedPostgres]]:
    async with replicated_stores(tmp_path) as (pair, stores):
        rig = Rig(tmp_path, stores)
        try:
            yield rig, pair
        finally:
            rig.stop()


@pytest.mark.slow
@own_stores
async def test_a_vote_is_acknowledged_only_once_the_standby_has_it(
        failover: tuple[Rig, ReplicatedPostgres]) -> None:
    """With the standby stopped, the primary's COMMIT waits for it: the vote and its
    retries are refused 503 within DB_TIMEOUT_S (a duplicate answer would acknowledge
    it too). Once the standby answers again, the retry is acknowledged and the standby
    holds the vote."""
    rig, pair = failover
    server = rig.serve(DB_TIMEOUT_S=str(DB_TIMEOUT_S))
    cid = await open_contest(server, CAP)
    [voter] = await make_voters(server, cid, 1)
    standby = pair.standby
    assert standby is not None
    loop = asyncio.get_running_loop()
    key = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:

        async def vote() -> tuple[int, float]:
            sent = loop.time()
            r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "AZ", "key": key},
                               headers={"Authorization": f"Bearer {voter.token}"})
            return r.status_code, loop.time() - sent

        pause(standby, True)
        try:
            while_stopped = [await vote(), await vote()]  # the vote, then its retry
        finally:
            pause(standby, False)
        answered: tuple[int, float] = await eventually(vote, 30, "the retry to be acknowledged",
                                    ok=lambda answer: answer[0] in (200, 201))
    assert [status for status, _ in while_stopped] == [503, 503]
    assert all(took <= DB_TIMEOUT_S + ANSWER_MARGIN_S for _, took in while_stopped)
    assert answered[0] in (200, 201)
    conn = await connect(standby.url())  # a hot standby answers reads
    try:  # it has the vote on disk; replaying it may take a moment more
        await eventually(lambda: conn.fetchval(
            "SELECT count(*) FROM votes WHERE contest_id=$1", cid), 10,
            "the standby to show the vote", ok=lambda n: n == 1)
    finally:
        await conn.close()


@pytest.mark.slow
@pytest.mark.drill
@own_stores
async def test_kill_9_of_the_primary_then_promote_loses_no_acknowledged_vote(
        failover: tuple[Rig, ReplicatedPostgres]) -> None:
    """0 acknowledged votes missing on the new primary, none doubled, no cap breached,
    201s again within 10 s of the kill, and no answer later than DB_TIMEOUT_S, none but
    201/200/503 (`unavailable`) while no primary is writable."""
    rig, pair = failover
    server = rig.serve(DB_TIMEOUT_S=str(DB_TIMEOUT_S))
    assert server.env["DATABASE_URL"] == pair.database_url and "," in pair.database_url
    standby = pair.standby
    assert standby is not None
    cid = await open_contest(server, CAP)
    probe_cid = await open_contest(server, PROBE_CAP)
    voters = await make_voters(server, cid, int(400 * LOAD_S))  # enough to outlast caps
    probers = await make_voters(server, probe_cid, 50)
    probe, log, stop = Probe(), VoteLog(), asyncio.Event()
    loop = asyncio.get_running_loop()
    traffic = asyncio.gather(run_load([server], cid, voters, log, stop),
                             probe.run(server, probe_cid, probers, stop))
    await asyncio.sleep(LOAD_S)  # a duration: LOAD_S seconds of votes before the kill

    killed_at = loop.time()
    killed = await asyncio.to_thread(kill_primary, pair)  # the loop keeps voting meanwhile
    await asyncio.to_thread(pair.promote)
    promoted_s = loop.time() - killed_at
    flowing: float | None = await eventually(
        lambda: probe.first_201_sent_after(killed_at), FLOWING_WITHIN_S,
        "a 201 for a vote sent after the kill", ok=lambda at: at is not None, interval_s=0.01)
    assert flowing is not None
    flowing_s = flowing - killed_at
    await asyncio.sleep(LOAD_S)  # and LOAD_S seconds of votes on the new primary
    stop.set()
    await asyncio.wait_for(traffic, timeout=60)

    assert pair.primary is standby
    tallies_s = await wait_tallies_match(server, cid)
    # On the new primary (the URL's read-write host); outage_s: the load's longest
    # stretch without an acknowledgement, as every drill counts it.
    record = await record_drill(DRILL_NAME, pair.database_url, cid, log, CAP,
                                exact_tallies_s=tallies_s)
    print(f"\n  {record}\n  promoted {promoted_s:.2f} s after the kill, first 201 of a vote "
          f"sent after it {flowing_s:.2f} s after it; 503 answers {log.status_counts[503]}, "
          f"transport errors {len(log.errors_during)}, cap-refused {len(log.capped)}; "
          f"probe attempts {len(probe.attempts)}")

    assert record.acknowledged > 0 and log.status_counts[503] > 0, "no vote met the kill"
    assert (record.lost, record.double, record.cap_breaches) == (0, 0, 0), record
    await check_ledger(rig, cid, log, CAP)  # nothing unsent; cap counters equal the ledger
    assert flowing_s <= FLOWING_WITHIN_S
    assert record.outage_s <= FLOWING_WITHIN_S
    slow = [a for a in probe.attempts if a.answered - a.sent > DB_TIMEOUT_S + ANSWER_MARGIN_S]
    assert not slow, f"answered later than DB_TIMEOUT_S: {slow}"
    odd = [a for a in probe.attempts
           if a.status not in (200, 201) and (a.status, a.code) != (503, "unavailable")]
    assert not odd, f"answers other than 201, 200 and 503 unavailable: {odd}"
    wait_until(killed.processes_left, 10, "the killed primary's processes to exit",
               ok=lambda left: not left)
    async with httpx.AsyncClient(base_url=server.base_url) as api:
        assert (await api.get("/healthz")).status_code == 200
