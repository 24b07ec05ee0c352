"""Audience intake: every acknowledged vote counted once, caps hold, windows hold."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx

from tests.conftest import LiveServer
from tests.harness.waiting import eventually
from tests.service.helpers import aggregator_headers, open_window, voter_headers


async def ledger_rows(ledger: asyncpg.Connection, cid: str) -> int:
    return int(await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id=$1", cid))


async def test_200_concurrent_votes_of_one_voter_with_cap_20_accept_exactly_20(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest(vote_cap=20)
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+7700000001", "KZ")
    responses = await asyncio.gather(*[
        api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": f"tap-{i}"},
                 headers=voter) for i in range(200)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 20
    assert statuses.count(429) == 180
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 429} == {
        "vote_cap_reached"}
    assert sorted(r.json()["remaining"] for r in responses if r.status_code == 201) == list(
        range(20))
    assert await ledger_rows(ledger, cid) == 20


async def test_one_idempotency_key_sent_50_times_concurrently_makes_one_ledger_row(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+7700000002", "KZ")
    responses = await asyncio.gather(*[
        api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "CN", "key": "same-tap"},
                 headers=voter) for _ in range(50)])
    assert sorted(r.status_code for r in responses) == [200] * 49 + [201]
    assert all(r.json()["remaining"] == 19 for r in responses)
    assert await ledger_rows(ledger, cid) == 1


async def test_votes_while_the_window_is_closed_get_409_and_leave_no_row(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    voter = await voter_headers(api, live_server, cid, "+7700000003", "KZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "CN", "key": "a"},
                       headers=voter)
    assert r.status_code == 409 and r.json()["error"]["code"] == "window_closed"
    await open_window(api, live_server, cid)
    await open_window(api, live_server, cid, "closed")
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "CN", "key": "b"},
                       headers=voter)
    assert r.status_code == 409
    assert await ledger_rows(ledger, cid) == 0


async def test_a_vote_for_the_voters_own_country_is_422_own_country(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+7700000004", "KZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "KZ", "key": "a"},
                       headers=voter)
    assert r.status_code == 422 and r.json()["error"]["code"] == "own_country"
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "FR", "key": "b"},
                       headers=voter)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_entry"
    assert await ledger_rows(ledger, cid) == 0


async def test_a_voter_token_of_another_contest_is_refused(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    first, second = live_server.new_contest(), live_server.new_contest()
    await open_window(api, live_server, second)
    voter = await voter_headers(api, live_server, first, "+7700000005", "KZ")
    r = await api.post(f"/api/v1/contests/{second}/votes", json={"entry": "UZ", "key": "a"},
                       headers=voter)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = await api.post(f"/api/v1/contests/{second}/votes", json={"entry": "UZ", "key": "a"},
                       headers={"Authorization": "Bearer forged.token"})
    assert r.status_code == 401


async def test_a_batch_with_good_and_bad_votes_splits_exactly_and_resending_counts_nothing(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest(vote_cap=2)
    await open_window(api, live_server, cid)
    partner = await aggregator_headers(api, live_server, cid)
    votes = [
        {"id": "v1", "voter": "+1", "country": "KZ", "entry": "UZ"},
        {"id": "v2", "voter": "+1", "country": "KZ", "entry": "CN"},
        {"id": "v3", "voter": "+1", "country": "KZ", "entry": "MN"},   # over the cap of 2
        {"id": "v4", "voter": "+2", "country": "KZ", "entry": "KZ"},   # own country
        {"id": "v5", "voter": "+3", "country": "UZ", "entry": "FR"},   # unknown entry
        {"id": "v6", "voter": "+4", "country": "WW", "entry": "KR"},
        {"id": "v6", "voter": "+4", "country": "WW", "entry": "KR"},   # repeated id
    ]
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                       headers=partner)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (3, 1)
    assert sorted((x["id"], x["code"]) for x in body["rejected"]) == [
        ("v3", "vote_cap_reached"), ("v4", "own_country"), ("v5", "unknown_entry")]
    assert sorted(body["receipts"]) == ["v1", "v2", "v6"]
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes[:2]},
                       headers=partner)
    assert r.json() == {"accepted": 0, "duplicates": 2, "rejected": [],
                        "receipts": {k: body["receipts"][k] for k in ("v1", "v2")}}
    assert await ledger_rows(ledger, cid) == 3


async def test_an_aggregator_key_works_only_for_its_own_contest(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    first, second = live_server.new_contest(), live_server.new_contest()
    partner = await aggregator_headers(api, live_server, first)
    r = await api.post(f"/api/v1/contests/{second}/votes/batch", headers=partner,
                       json={"votes": [{"id": "1", "voter": "+1", "country": "KZ",
                                        "entry": "UZ"}]})
    assert r.status_code == 403


async def test_a_batch_larger_than_10000_votes_is_refused_whole(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    partner = await aggregator_headers(api, live_server, cid)
    votes = [{"id": str(i), "voter": f"+{i}", "country": "KZ", "entry": "UZ"}
             for i in range(10_001)]
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                       headers=partner)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_body"
    assert await ledger_rows(ledger, cid) == 0


async def test_after_a_burst_the_live_tally_equals_the_ledger(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voters = [await voter_headers(api, live_server, cid, f"+9{i}", c)
              for i, c in enumerate(["KZ", "UZ", "CN", "KR", "WW"] * 8)]
    entries = ["AZ", "AM", "GE", "IN", "MN"]
    await asyncio.gather(*[
        api.post(f"/api/v1/contests/{cid}/votes",
                 json={"entry": entries[(i + j) % 5], "key": uuid.uuid4().hex}, headers=v)
        for i, v in enumerate(voters) for j in range(10)])

    async def verdict() -> dict[str, Any]:
        r = await api.post(f"/api/v1/contests/{cid}/verify", headers=live_server.admin)
        return dict(r.json())

    found = await eventually(verdict, 10, "the live tally to equal the ledger after the burst",
                             ok=lambda v: v.get("ok") is True)
    assert found["ledger_total"] == found["live_total"] == 400


async def test_a_flushed_redis_neither_lifts_caps_nor_loses_the_count(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    from service.stores.redis import create_redis

    cid = live_server.new_contest(vote_cap=3)
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+7700000009", "KZ")
    for i in range(3):
        r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": f"{i}"},
                           headers=voter)
        assert r.status_code == 201
    redis = create_redis(live_server.env["REDIS_URL"])
    keys = [k async for k in redis.scan_iter(match=f"sv:{{{cid}:*")]
    await redis.delete(*keys)
    await redis.aclose()
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "x"},
                       headers=voter)
    assert r.status_code == 429
    assert await ledger_rows(ledger, cid) == 3

    async def live_votes() -> dict[str, Any]:
        reply = (await api.get(f"/api/v1/contests/{cid}/results")).json()
        assert "votes" in reply, reply
        return dict(reply["votes"])

    # the reconciler (1 s interval in tests) rebuilds the tally from the ledger
    live = await eventually(live_votes, 10, "the reconciler to rebuild the flushed tally",
                            ok=lambda votes: votes == {"KZ": {"UZ": 3}}, interval_s=0.25)
    assert live == {"KZ": {"UZ": 3}}


async def test_votes_me_reports_used_and_remaining(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest(vote_cap=5)
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+7700000010", "AM")
    await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "GE", "key": "1"},
                   headers=voter)
    r = await api.get(f"/api/v1/contests/{cid}/votes/me", headers=voter)
    assert r.json() == {"country": "AM", "used": 1, "remaining": 4, "cap": 5}
