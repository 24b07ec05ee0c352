"""Who a vote is from, as the API sees it: one country per voter, hashes keyed per
contest, a receipt and a channel on every vote, keys that can be revoked at once."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from service.stores.redis import create_redis
from tests.conftest import LiveServer, Stores, start_server
from tests.harness.server import contest_body
from tests.service.helpers import aggregator_headers, open_window, voter_headers


def one(vote_id: str, voter: str, country: str, entry: str = "KR", **extra: str
        ) -> dict[str, str]:
    return {"id": vote_id, "voter": voter, "country": country, "entry": entry, **extra}


async def batch(api: httpx.AsyncClient, cid: str, partner: dict[str, str],
                *votes: dict[str, str]) -> httpx.Response:
    return await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": list(votes)},
                          headers=partner)


async def test_a_voter_with_tokens_for_az_and_uz_is_counted_in_one_audience_only(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    as_az = await voter_headers(api, live_server, cid, "+99890000077", "AZ")
    as_uz = await voter_headers(api, live_server, cid, "+99890000077", "UZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "KR", "key": "a"},
                       headers=as_az)
    assert r.status_code == 201, r.text
    redis = create_redis(live_server.env["REDIS_URL"])  # the rule lives in the ledger
    keys = [k async for k in redis.scan_iter(match=f"sv:{{{cid}*")]
    await redis.delete(*keys)
    await redis.aclose()
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "KR", "key": "b"},
                       headers=as_uz)
    assert r.status_code == 409 and r.json()["error"]["code"] == "country_mismatch", r.text
    assert await ledger.fetch("SELECT voting_country FROM votes WHERE contest_id = $1",
                              cid) == [("AZ",)]


async def test_a_voter_in_batches_for_az_and_uz_is_refused_per_vote_as_country_mismatch(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    partner = await aggregator_headers(api, live_server, cid)
    r = await batch(api, cid, partner, one("1", "+99890000078", "AZ"),
                    one("2", "+99890000078", "UZ"), one("3", "+99890000079", "UZ"))
    assert r.json()["accepted"] == 2
    assert r.json()["rejected"] == [{"id": "2", "code": "country_mismatch"}]
    r = await batch(api, cid, partner, one("4", "+99890000078", "UZ"))
    assert r.json()["rejected"] == [{"id": "4", "code": "country_mismatch"}]
    # the same phone number through the app is the same voter, still bound to AZ
    as_uz = await voter_headers(api, live_server, cid, "+99890000078", "UZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "KR", "key": "x"},
                       headers=as_uz)
    assert r.status_code == 409 and r.json()["error"]["code"] == "country_mismatch"
    rows = await ledger.fetch("SELECT voting_country, count(*) FROM votes "
                              "WHERE contest_id = $1 GROUP BY 1 ORDER BY 1", cid)
    assert [tuple(row) for row in rows] == [("AZ", 1), ("UZ", 1)]


async def test_one_upstream_voter_hashes_differently_in_two_contests(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    contests = [live_server.new_contest(), live_server.new_contest()]
    for cid in contests:
        await open_window(api, live_server, cid)
        partner = await aggregator_headers(api, live_server, cid)
        assert (await batch(api, cid, partner, one("1", "+99890000080", "KZ"))
                ).json()["accepted"] == 1
        app = await voter_headers(api, live_server, cid, "+99890000081", "KZ")
        r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "k"},
                           headers=app)
        assert r.status_code == 201
    rows = await ledger.fetch("SELECT contest_id, voter_hash FROM voters "
                              "WHERE contest_id = ANY($1::text[])", contests)
    hashes = [bytes(row["voter_hash"]) for row in rows]
    assert len(rows) == 4 and len(set(hashes)) == 4


async def test_every_vote_answers_a_receipt_and_batches_say_each_votes_channel(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    partner = await aggregator_headers(api, live_server, cid)  # named "telco"
    r = await batch(api, cid, partner, one("s", "+1", "KZ", channel="sms"),
                    one("c", "+2", "KZ", channel="call"), one("d", "+3", "KZ"))
    receipts = r.json()["receipts"]
    assert sorted(receipts) == ["c", "d", "s"]
    assert all(len(base64.urlsafe_b64decode(x + "==")) == 16 and "=" not in x
               for x in receipts.values())
    assert (await batch(api, cid, partner, one("x", "+4", "KZ", channel="fax"))
            ).status_code == 400
    rows = await ledger.fetch("SELECT channel, receipt FROM votes WHERE contest_id = $1", cid)
    assert sorted(row["channel"] for row in rows) == ["call", "sms", "telco"]
    assert {base64.urlsafe_b64encode(row["receipt"]).rstrip(b"=").decode() for row in rows
            } == set(receipts.values())


async def test_app_votes_keep_a_hash_of_their_network_and_of_their_token(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    tokens = [await voter_headers(api, live_server, cid, f"+7701000000{i}", "KZ")
              for i in range(2)]
    for i, token in enumerate(tokens * 2):
        r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": str(i)},
                           headers=token)
        assert r.status_code == 201
    rows = await ledger.fetch("SELECT voter_hash, net_hash, token_hash, channel FROM votes "
                              "WHERE contest_id = $1", cid)
    assert {row["channel"] for row in rows} == {"app"}
    assert len({row["net_hash"] for row in rows}) == 1  # one client, one network
    assert None not in {row["net_hash"] for row in rows}
    by_voter = {(row["voter_hash"], row["token_hash"]) for row in rows}
    assert len(by_voter) == 2 and len({token for _, token in by_voter}) == 2


async def test_closes_at_is_part_of_the_definition_and_refuses_votes_once_past(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    r = await api.post("/api/v1/contests", headers=live_server.admin, json=contest_body(
        opens_at=now.isoformat(), closes_at=(now - timedelta(1)).isoformat()))
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_window"
    past = (now - timedelta(seconds=1)).isoformat()
    cid = live_server.new_contest(closes_at=past)
    contest = (await api.get(f"/api/v1/contests/{cid}")).json()
    assert datetime.fromisoformat(contest["closes_at"]) == datetime.fromisoformat(past)
    assert contest["opens_at"] is None
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+77010000099", "KZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "late"},
                       headers=voter)
    assert r.status_code == 409 and r.json()["error"]["code"] == "window_closed"
    partner = await aggregator_headers(api, live_server, cid)
    assert (await batch(api, cid, partner, one("1", "+5", "KZ"))).status_code == 409
    assert await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", cid) == 0


async def test_a_revoked_aggregator_key_is_refused_at_once_by_another_process(
        stores: Stores, live_server: LiveServer, api: httpx.AsyncClient,
        tmp_path: Path) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    r = await api.post(f"/api/v1/contests/{cid}/aggregator-keys", json={"name": "telco"},
                       headers=live_server.admin)
    key_id, partner = r.json()["id"], {"Authorization": f"Bearer {r.json()['key']}"}
    other = start_server(stores, tmp_path / "other")
    try:
        async with httpx.AsyncClient(base_url=other.base_url, timeout=30) as elsewhere:
            r = await batch(elsewhere, cid, partner, one("1", "+1", "KZ"))
            assert r.json()["accepted"] == 1  # the other process now remembers the key
            r = await api.delete(f"/api/v1/contests/{cid}/aggregator-keys/{key_id}",
                                 headers=live_server.admin)
            assert r.status_code == 200 and r.json()["id"] == key_id
            revoked_at = r.json()["revoked_at"]
            r = await batch(elsewhere, cid, partner, one("2", "+2", "KZ"))
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
            r = await batch(api, cid, partner, one("3", "+3", "KZ"))
            assert r.status_code == 401
    finally:
        other.stop()
    r = await api.delete(f"/api/v1/contests/{cid}/aggregator-keys/{key_id}",
                         headers=live_server.admin)
    assert r.status_code == 200 and r.json()["revoked_at"] == revoked_at  # idempotent
    r = await api.delete(f"/api/v1/contests/{cid}/aggregator-keys/agg-none",
                         headers=live_server.admin)
    assert r.status_code == 404
    r = await api.delete(f"/api/v1/contests/{cid}/aggregator-keys/{key_id}")
    assert r.status_code == 401
