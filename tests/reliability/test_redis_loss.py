"""Losing Redis degrades the live board, not intake (docs/reliability.md).

Votes need only the ledger: caps, idempotency and the window are PostgreSQL's. So with
Valkey frozen (SIGSTOP: its sockets stay open and nothing answers, the worst way for a
store to fail), single votes, aggregator batches and the producer's requests are all
answered as fast as ever, the rate limiter keeps refusing a hammering voter on its
local counts, and once Valkey resumes the reconciler makes the tallies equal to the
ledger again. The figures of the single votes go to
test-artifacts/drills/valkey-paused-sigstop.json for `make drills` (`outage_s` is the
longest stretch without an acknowledgement, `exact_tallies_s` counts from SIGCONT).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from service.stores.postgres import connect
from tests.reliability.drills import record_drill
from tests.reliability.rig import (
    ENTRIES,
    Rig,
    VoteLog,
    Voter,
    check_ledger,
    make_voters,
    on_own_stores,
    open_contest,
    wait_tallies_match,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.drill,
    on_own_stores("the test freezes its own embedded Valkey"),
]
CAP = 5
PAUSE_S = 4.0  # Valkey frozen this long, twice the tally update's 2 s timeout
# Every answer while Redis is frozen: below the 2 s at which any wait on Redis would end
# (COMMAND_TIMEOUT_S, TALLY_UPDATE_TIMEOUT_S), with room for a host busy with other tests
# (1.04 and 1.24 s seen there; a request that waited on Redis takes 2 s or more).
ANSWER_BOUND_S = 1.5
RATE_LIMIT = 5  # RATE_LIMIT_VOTER_PER_S of the server
VOTING_AT_ONCE = 10  # concurrent single-vote clients
BATCH_EVERY_S = 0.2  # an aggregator's batch this often
BATCH_SIZE = 20
REPAIRED_WITHIN_S = 20.0


@dataclass
class Answer:
    """One request sent while Valkey was frozen (loop times)."""

    kind: str  # "vote", "hammer", "batch" or "producer"
    sent: float
    answered: float
    status: int
    code: str | None  # the error body's code

    @property
    def seconds(self) -> float:
        return self.answered - self.sent


@dataclass
class Traffic:
    """What the clients sent into the freeze and what they were told."""

    answers: list[Answer] = field(default_factory=list)
    votes: VoteLog = field(default_factory=VoteLog)
    batch_accepted: int = 0

    async def send(self, api: httpx.AsyncClient, kind: str, path: str, body: object,
                   headers: dict[str, str]) -> httpx.Response:
        loop = asyncio.get_running_loop()
        sent = loop.time()
        r = await api.post(path, json=body, headers=headers)
        code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
        self.answers.append(Answer(kind, sent, loop.time(), r.status_code, code))
        return r

    async def vote(self, api: httpx.AsyncClient, cid: str, voter: Voter, kind: str) -> None:
        entry = random.choice([e for e in ENTRIES if e != voter.country])
        key = uuid.uuid4().hex
        self.votes.attempted[key] = (voter.name, entry)
        r = await self.send(api, kind, f"/api/v1/contests/{cid}/votes",
                            {"entry": entry, "key": key},
                            {"Authorization": f"Bearer {voter.token}"})
        if r.status_code in (200, 201):
            self.votes.acked.add(key)
            self.votes.ack_times.append(time.monotonic())
        elif self.answers[-1].code == "vote_cap_reached":
            self.votes.capped.add(key)


def frozen(pid: int, paused: bool) -> None:
    os.kill(pid, signal.SIGSTOP if paused else signal.SIGCONT)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await Rig.start(tmp_path)
    yield rig
    pid = rig.stores.redis_pid
    if pid is not None:
        frozen(pid, False)  # a failed test must not leave Valkey stopped for the teardown
    rig.stop()


async def ledger_rows(rig: Rig, cid: str) -> tuple[int, int]:
    conn = await connect(rig.stores.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT dedupe_key) FROM votes WHERE contest_id=$1", cid)
    finally:
        await conn.close()
    assert row is not None
    return int(row[0]), int(row[1])


async def test_a_frozen_redis_slows_no_vote_batch_or_producer_request(rig: Rig) -> None:
    """Every vote, batch and producer request sent while Valkey is SIGSTOPped is answered
    within 1 s and none with 503; a voter over RATE_LIMIT_VOTER_PER_S is still refused
    429; the ledger holds every acknowledged vote once; after SIGCONT the live tallies
    of both contests equal the ledger again."""
    server = rig.serve(RATE_LIMIT_VOTER_PER_S=str(RATE_LIMIT))
    pid = rig.stores.redis_pid
    assert pid is not None, "the rig's embedded Valkey is not running"
    cid = await open_contest(server, CAP)
    batch_cid = await open_contest(server, CAP)
    later_cid = server.new_contest()  # the producer opens its window during the freeze
    voters = await make_voters(server, cid, 1000)  # ~1 vote a second each: under the limit
    hammerer, voters = voters[0], voters[1:]
    traffic = Traffic()
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as api:
        partner = await api.post(f"/api/v1/contests/{batch_cid}/aggregator-keys",
                                 json={"name": "telco"}, headers=server.admin)
        aggregator = {"Authorization": f"Bearer {partner.json()['key']}"}
        await traffic.vote(api, cid, voters[0], "warm-up")  # connections made before the freeze
        assert traffic.votes.acked
        traffic.answers.clear()
        loop = asyncio.get_running_loop()

        async def voting(until: float) -> None:
            while loop.time() < until:
                await traffic.vote(api, cid, random.choice(voters), "vote")

        async def batches(until: float) -> None:
            n = 0
            while loop.time() < until:
                votes = [{"id": f"b{n}-{i}", "voter": f"+99{n:05d}{i:03d}", "country": "KZ",
                          "entry": ENTRIES[i % len(ENTRIES)]} for i in range(BATCH_SIZE)]
                r = await traffic.send(api, "batch", f"/api/v1/contests/{batch_cid}/votes/batch",
                                       {"votes": votes}, aggregator)
                if r.status_code == 200:
                    traffic.batch_accepted += r.json()["accepted"]
                n += 1
                await asyncio.sleep(BATCH_EVERY_S)  # a pace: an aggregator's flush interval

        async def hammer_and_produce() -> None:
            await asyncio.sleep(PAUSE_S / 4)  # well into the freeze
            await asyncio.gather(*[traffic.vote(api, cid, hammerer, "hammer")
                                   for _ in range(2 * RATE_LIMIT + 1)])  # > limit in a window
            await traffic.send(api, "producer", f"/api/v1/contests/{later_cid}/window",
                               {"state": "open"}, server.admin)

        frozen(pid, True)
        try:
            until = loop.time() + PAUSE_S  # the freeze's length is the fault, not a wait
            await asyncio.gather(*[voting(until) for _ in range(VOTING_AT_ONCE)],
                                 batches(until), hammer_and_produce())
        finally:
            frozen(pid, False)
        resumed = loop.time()

    answers = traffic.answers
    slowest = max(answers, key=lambda a: a.seconds)
    kinds = {kind: sum(a.kind == kind for a in answers) for kind in ("vote", "batch", "hammer")}
    print(f"\n  sent into the freeze: {kinds}, slowest answer {slowest.seconds:.3f} s "
          f"({slowest.kind}); acknowledged {len(traffic.votes.acked)} votes and "
          f"{traffic.batch_accepted} batch votes")
    late = [a for a in answers if a.seconds > ANSWER_BOUND_S]
    assert not late, f"answered later than {ANSWER_BOUND_S} s with Redis frozen: {late[:10]}"
    refused = [a for a in answers if a.status not in (200, 201)
               and (a.status, a.code) not in ((429, "rate_limited"), (429, "vote_cap_reached"))]
    assert not refused, f"refused while only Redis was down: {refused[:10]}"
    # traffic kept flowing: as many batches as answers within the bound leave room for
    # (each waits for its answer, then its pace)
    assert kinds["vote"] > 100
    assert kinds["batch"] >= int(PAUSE_S / (BATCH_EVERY_S + ANSWER_BOUND_S)), kinds
    hammered = [a.code for a in answers if a.kind == "hammer"]
    assert "rate_limited" in hammered, f"the limiter let a hammering voter through: {hammered}"
    assert [a.status for a in answers if a.kind == "producer"] == [200]

    for contest in (cid, batch_cid):
        await wait_tallies_match(server, contest, REPAIRED_WITHIN_S)
    exact_s = loop.time() - resumed
    await check_ledger(rig, cid, traffic.votes, CAP)  # each acknowledged vote once, caps held
    assert await ledger_rows(rig, batch_cid) == (traffic.batch_accepted,) * 2
    record = await record_drill("valkey paused (SIGSTOP)", rig.stores.database_url, cid,
                                traffic.votes, CAP, exact_tallies_s=exact_s)
    print(f"  {record}")
    assert (record.lost, record.double, record.cap_breaches) == (0, 0, 0), record
