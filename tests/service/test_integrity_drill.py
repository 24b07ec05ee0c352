"""The stuffing drill (issue 15): one client mints 500 device tokens from one network
and votes 20 times with each; the integrity report shows it, a void removes it, and
the official result equals the result without those votes, computed with scoring/
itself.

Each client talks from its own loopback address (Linux routes all of 127/8 to the
loopback interface), so the server sees the attacker's /24 and every fan's /24 as the
different networks they would be. The drill's server mints without limit
(`DEVICE_TOKENS_PER_NETWORK_PER_MIN=0`): the limit is tested in `test_voids.py`, and an
attacker holding a few networks gets past it in the same way.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import redis.asyncio as redis

from loadtests.bench.http_client import HttpConnection, http_request
from scoring import CountryVote, Entry, Rules, Sheet, score
from service.stores import redis_keys
from tests.conftest import LiveServer, Stores, contest_body, start_server
from tests.harness.waiting import eventually

TOKENS, VOTES_EACH = 500, 20  # the drill
CONCURRENCY = 64  # the attacker's requests in flight
ATTACKER = "127.250.0.7"  # one /24
BOT_COUNTRY, BOT_ENTRY = "AZ", "AM"
COUNTRIES = ["AZ", "KZ", "UZ", "GE", "WW"]
ENTRIES = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]


@pytest.fixture(scope="module")
def drill_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[LiveServer]:
    server = start_server(stores, Path(tmp_path_factory.mktemp("drill")),
                          DEVICE_TOKENS_PER_NETWORK_PER_MIN="0")
    yield server
    server.stop()


def client_from(server: LiveServer, address: str, connections: int = 10) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.base_url, timeout=httpx.Timeout(30, pool=None),  # queued: no limit
        limits=httpx.Limits(max_connections=connections),
        transport=httpx.AsyncHTTPTransport(local_address=address))


@pytest.fixture
async def admin(drill_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=drill_server.base_url, timeout=60,
                                 headers=drill_server.admin) as client:
        yield client


async def vote(client: httpx.AsyncClient, cid: str, token: str, entry: str) -> None:
    r = await client.post(f"/api/v1/contests/{cid}/votes",
                          json={"entry": entry, "key": uuid.uuid4().hex},
                          headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text


async def fans_vote(server: LiveServer, cid: str) -> dict[str, dict[str, int]]:
    """60 fans, each on a network of its own, 1 to 3 votes each: the honest televote."""
    rng = random.Random(15)
    counts: dict[str, dict[str, int]] = {}
    for i in range(60):
        country = rng.choice(COUNTRIES)
        async with client_from(server, f"127.{10 + i}.0.1") as fan:
            r = await fan.post(f"/api/v1/contests/{cid}/device-token",
                               json={"device": f"fan-phone-{i:04d}", "country": country})
            assert r.status_code == 201, r.text
            for _ in range(rng.randint(1, 3)):
                entry = rng.choice([e for e in ENTRIES if e != country])
                await vote(fan, cid, r.json()["token"], entry)
                row = counts.setdefault(country, {})
                row[entry] = row.get(entry, 0) + 1
    return counts


async def sms_batch(admin: httpx.AsyncClient, cid: str) -> dict[str, dict[str, int]]:
    """Votes from a telecom partner: no client network."""
    plan = {"KZ": {"UZ": 30, "GE": 12}, "UZ": {"KZ": 25, "KR": 9}, "AZ": {"GE": 14}}
    key = (await admin.post(f"/api/v1/contests/{cid}/aggregator-keys",
                            json={"name": "telco"})).json()["key"]
    votes = [{"id": f"sms-{c}-{e}-{n}", "voter": f"+99{c}{e}{n:04d}", "country": c, "entry": e}
             for c, row in plan.items() for e, k in row.items() for n in range(k)]
    r = await admin.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                         headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["accepted"] == len(votes), r.text
    return plan


async def stuff(server: LiveServer, cid: str) -> None:
    """The attack: 500 tokens from one client, 20 votes each for one entry, from
    `CONCURRENCY` keep-alive connections. They are the bench's raw HTTP connections:
    httpx spends about a millisecond of this process's CPU per request, which made the
    10,000 votes the longest part of the suite."""
    host, port = "127.0.0.1", int(server.base_url.rsplit(":", 1)[1])
    loop = asyncio.get_running_loop()
    connections = [
        (await loop.create_connection(HttpConnection, host, port, local_addr=(ATTACKER, 0)))[1]
        for _ in range(CONCURRENCY)]
    devices = list(range(TOKENS))
    tokens: list[str] = []

    async def minter(conn: HttpConnection) -> None:
        while devices:
            body = msgspec.json.encode({"device": f"bot-{devices.pop():06d}",
                                        "country": BOT_COUNTRY})
            status, answer = await conn.request(http_request(
                "POST", f"/api/v1/contests/{cid}/device-token", host, body))
            assert status == 201, answer
            tokens.append(msgspec.json.decode(answer)["token"])

    queue = [t for t in range(TOKENS) for _ in range(VOTES_EACH)]

    async def voter(conn: HttpConnection) -> None:
        while queue:
            body = msgspec.json.encode({"entry": BOT_ENTRY, "key": uuid.uuid4().hex})
            status, answer = await conn.request(http_request(
                "POST", f"/api/v1/contests/{cid}/votes", host, body, tokens[queue.pop()]))
            assert status == 201, answer

    try:
        await asyncio.gather(*(minter(c) for c in connections))
        await asyncio.gather(*(voter(c) for c in connections))
    finally:
        for conn in connections:
            assert conn.transport is not None
            conn.transport.close()


def merged(*plans: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for plan in plans:
        for country, row in plan.items():
            for entry, n in row.items():
                out.setdefault(country, {})[entry] = out.setdefault(country, {}).get(entry, 0) + n
    return out


def expected_result(definition: dict[str, Any], counts: dict[str, dict[str, int]]) -> Any:
    """The result of these counts, from scoring/ directly (no jury: not locked)."""
    sheet = Sheet(
        rules=msgspec.convert(definition["rules"], Rules),
        entries=[Entry(country=e["country"], running_order=e["running_order"],
                       artist=e["artist"], song=e["song"]) for e in definition["entries"]],
        votes=[CountryVote(from_=c, televote_counts=counts[c]) if counts.get(c)
               else CountryVote(from_=c) for c in definition["voting_countries"]],
    )
    return score(sheet)


async def full_results(admin: httpx.AsyncClient, cid: str, source: str) -> dict[str, Any]:
    r = await admin.get(f"/api/v1/contests/{cid}/results",
                        params={"source": source, "view": "full"})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_stuffing_drill_is_seen_voided_and_the_result_is_the_honest_one(
        drill_server: LiveServer, admin: httpx.AsyncClient, stores: Stores,
        ledger: asyncpg.Connection) -> None:
    definition = contest_body(results_visibility="after_close")
    cid = (await admin.post("/api/v1/contests", json=definition)).json()["id"]
    await admin.post(f"/api/v1/contests/{cid}/window", json={"state": "open"})
    honest = merged(await fans_vote(drill_server, cid), await sms_batch(admin, cid))
    honest_app = sum(n for row in honest.values() for n in row.values()) - 90
    await stuff(drill_server, cid)
    stuffed = (await full_results(admin, cid, "ledger"))["votes"]
    assert stuffed[BOT_COUNTRY][BOT_ENTRY] >= TOKENS * VOTES_EACH

    # the report shows it: one network, 500 tokens, 10,000 votes, every token bursting
    r = await admin.get(f"/api/v1/contests/{cid}/integrity", params={"top": 5})
    assert r.status_code == 200, r.text
    report = r.json()
    top = report["networks"][0]
    assert (top["votes"], top["tokens"], top["entries"]) == (
        TOKENS * VOTES_EACH, TOKENS, {BOT_ENTRY: TOKENS * VOTES_EACH})
    assert all(n["tokens"] == 1 for n in report["networks"][1:])  # a fan per network
    totals = report["totals"]
    assert totals["networks"] == 61 and totals["without_network"] == 90
    assert totals["top_1pct_networks"] == 1
    assert totals["top_1pct_share"] == pytest.approx(
        TOKENS * VOTES_EACH / (TOKENS * VOTES_EACH + honest_app), abs=1e-6)
    assert report["bursting_tokens"] == TOKENS
    assert report["bursts"][0]["most_in_window"] == VOTES_EACH
    assert report["bursts"][0]["network"] == top["network"]
    bot_entry = next(e for e in report["entries"] if e["entry"] == BOT_ENTRY)
    assert bot_entry["top_network_votes"] == TOKENS * VOTES_EACH

    # a void removes it, by the network the report names
    r = await admin.post(f"/api/v1/contests/{cid}/voids", json={
        "rule": {"networks": [top["network"]]}, "by": "scrutineer",
        "reason": "500 device tokens from one /24, 20 votes each within a minute"})
    assert r.status_code == 201, r.text
    assert r.json()["votes"] == TOKENS * VOTES_EACH

    # the official result is the result without those votes
    official = await full_results(admin, cid, "ledger")
    want = expected_result(definition, honest)
    assert official["votes"] == honest
    assert official["scoreboard"] == msgspec.to_builtins(want.scoreboard)
    want_sets = msgspec.to_builtins(want.sets)  # the API adds marks (substitute, voids…)
    assert [{k: s[k] for k in w} for s, w in zip(official["sets"], want_sets, strict=True)] \
        == want_sets
    voided_from = {s["from"]: s["void_votes"] for s in official["sets"] if s["void_votes"]}
    assert voided_from == {BOT_COUNTRY: TOKENS * VOTES_EACH}
    live = await eventually(lambda: full_results(admin, cid, "live"), 10,
                            "the live tallies to leave the void out",
                            ok=lambda seen: seen["votes"] == honest)
    assert live["scoreboard"] == official["scoreboard"]

    # the reconciler rebuilds lost tallies without the voided votes: it does not fight
    client = redis.from_url(stores.redis_url)
    try:
        await client.delete(redis_keys.applied(cid),
                            *(redis_keys.tally(cid, c) for c in definition["voting_countries"]))
    finally:
        await client.aclose()
    # (it repairs at the ledger batch it saw a round earlier, so a rebuild at a batch
    # before the void holds the voided votes, as the ledger did then; the next round's
    # cut is past the void and takes them out again)
    await eventually(lambda: full_results(admin, cid, "live"), 90,
                     "the reconciler to rebuild the tallies without the voided votes",
                     ok=lambda seen: seen["votes"] == honest)
    verify = (await admin.post(f"/api/v1/contests/{cid}/verify")).json()
    assert verify["ok"] is True

    # the votes stay in the ledger, marked void; the audit chain says who voided what
    assert await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", cid) == \
        TOKENS * VOTES_EACH + honest_app + 90
    assert await ledger.fetchval(
        "SELECT count(*) FROM voided_votes WHERE contest_id = $1", cid) == TOKENS * VOTES_EACH
    event = await ledger.fetchrow(
        "SELECT actor, detail FROM audit_events WHERE contest_id = $1 AND kind = "
        "'votes_voided'", cid)
    assert event["actor"] == "admin:scrutineer"
    assert event["detail"]["votes"] == TOKENS * VOTES_EACH
    after = (await admin.get(f"/api/v1/contests/{cid}/integrity")).json()
    assert after["totals"]["voided"] == TOKENS * VOTES_EACH
    assert after["totals"]["networks"] == 60
