"""Voids (issue 15): a scrutineer's rule takes votes out of the count, never out of the
ledger; the official result, the live tallies and the audit chain follow; once the
result is frozen no void is taken. And the self-service token limit (hole 5)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from tests.conftest import LiveServer
from tests.harness.waiting import eventually
from tests.service.helpers import open_window, voter_headers


async def cast(api: httpx.AsyncClient, cid: str, voter: dict[str, str], entry: str,
               times: int = 1) -> None:
    for _ in range(times):
        r = await api.post(f"/api/v1/contests/{cid}/votes",
                           json={"entry": entry, "key": uuid.uuid4().hex}, headers=voter)
        assert r.status_code == 201, r.text


async def void(api: httpx.AsyncClient, server: LiveServer, cid: str, rule: dict[str, Any],
               reason: str = "test") -> httpx.Response:
    return await api.post(f"/api/v1/contests/{cid}/voids",
                          json={"rule": rule, "reason": reason, "by": "scrutineer"},
                          headers=server.admin)


async def counts(api: httpx.AsyncClient, server: LiveServer, cid: str,
                 source: str) -> dict[str, Any]:
    r = await api.get(f"/api/v1/contests/{cid}/results",
                      params={"source": source, "view": "full"}, headers=server.admin)
    assert r.status_code == 200, r.text
    return dict(r.json()["votes"])


async def two_voters(api: httpx.AsyncClient, server: LiveServer) -> str:
    """An open contest: a stuffer's 5 KZ votes for UZ, a fan's 2 KZ votes for GE."""
    cid = server.new_contest()
    await open_window(api, server, cid)
    stuffer = await voter_headers(api, server, cid, "stuffer", "KZ")
    fan = await voter_headers(api, server, cid, "fan", "KZ")
    await cast(api, cid, stuffer, "UZ", 5)
    await cast(api, cid, fan, "GE", 2)
    return cid


async def test_a_void_by_voter_hash_leaves_the_ledger_and_corrects_every_count(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = await two_voters(api, live_server)
    stuffer = await ledger.fetchval(
        "SELECT voter_hash FROM votes WHERE contest_id = $1 AND entry = 'UZ' LIMIT 1", cid)
    r = await void(api, live_server, cid, {"voters": [stuffer.hex()]}, "one identity, 5 taps")
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["votes"] == 5 and done["batch"] > 0 and done["actor"] == "admin:scrutineer"
    assert await counts(api, live_server, cid, "ledger") == {"KZ": {"GE": 2}}
    await eventually(lambda: counts(api, live_server, cid, "live"), 5,
                     "the live tallies to drop the voided votes",
                     ok=lambda seen: seen == {"KZ": {"GE": 2}})
    assert await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", cid) == 7
    verify = (await api.post(f"/api/v1/contests/{cid}/verify",
                             headers=live_server.admin)).json()
    assert verify["ok"] is True and verify["ledger_total"] == 2
    event = await ledger.fetchrow(
        "SELECT actor, detail FROM audit_events WHERE contest_id = $1 AND kind = "
        "'votes_voided'", cid)
    assert event["actor"] == "admin:scrutineer"
    assert event["detail"]["votes"] == 5 and event["detail"]["void"] == done["id"]
    listed = (await api.get(f"/api/v1/contests/{cid}/voids", headers=live_server.admin)).json()
    assert [(v["id"], v["votes"], v["reason"]) for v in listed] == [
        (done["id"], 5, "one identity, 5 taps")]


async def test_the_ledger_view_right_after_a_void_marks_the_votes_its_counts_leave_out(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    """Counts and marks of one ledger view agree: a read just before the void (which
    warms any cache of void counts) does not leave the next read's sets unmarked."""
    cid = await two_voters(api, live_server)
    assert await counts(api, live_server, cid, "ledger") == {"KZ": {"UZ": 5, "GE": 2}}
    stuffer = await ledger.fetchval(
        "SELECT voter_hash FROM votes WHERE contest_id = $1 AND entry = 'UZ' LIMIT 1", cid)
    assert (await void(api, live_server, cid, {"voters": [stuffer.hex()]})).status_code == 201
    r = await api.get(f"/api/v1/contests/{cid}/results",
                      params={"source": "ledger", "view": "full"}, headers=live_server.admin)
    view = r.json()
    assert view["votes"] == {"KZ": {"GE": 2}}
    assert {s["from"]: s["void_votes"] for s in view["sets"] if s["void_votes"]} == {"KZ": 5}


async def test_a_vote_is_voided_once_and_a_time_range_voids_what_it_covers(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = await two_voters(api, live_server)
    cut = datetime.now(UTC)
    late = await voter_headers(api, live_server, cid, "late", "AZ")
    await cast(api, cid, late, "UZ", 3)
    first = (await void(api, live_server, cid, {"until": cut.isoformat()})).json()
    assert first["votes"] == 7
    again = (await void(api, live_server, cid, {"until": cut.isoformat()})).json()
    assert again["votes"] == 0 and again["batch"] == 0  # recorded, takes nothing twice
    assert await counts(api, live_server, cid, "ledger") == {"AZ": {"UZ": 3}}
    voided = await ledger.fetchval(
        "SELECT count(*) FROM voided_votes WHERE contest_id = $1", cid)
    assert voided == 7


async def test_a_rule_must_name_something_and_be_well_formed(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await two_voters(api, live_server)
    now = datetime.now(UTC).isoformat()
    for rule, status, code in [
        ({}, 422, "invalid_rule"),
        ({"from": now, "until": now}, 422, "invalid_rule"),
        ({"networks": ["not-a-hash"]}, 400, "invalid_body"),
        ({"networks": ["300.1.2.0/24"]}, 400, "invalid_body"),
        ({"tokens": ["ab" * 8]}, 400, "invalid_body"),  # 8 bytes: no token hash
        ({"voters": []}, 400, "invalid_body"),
        ({"voters": ["ab" * 32], "colour": "red"}, 400, "invalid_body"),
    ]:
        r = await void(api, live_server, cid, rule)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (rule, r.text)
    missing_reason = await api.post(f"/api/v1/contests/{cid}/voids",
                                    json={"rule": {"until": now}}, headers=live_server.admin)
    assert missing_reason.status_code == 400
    nul_reason = await void(api, live_server, cid, {"until": now}, "bots\u0000")
    assert nul_reason.status_code == 400  # PostgreSQL keeps no NUL: refused, never a 500
    anonymous = await api.post(f"/api/v1/contests/{cid}/voids",
                               json={"rule": {"until": now}, "reason": "x"})
    assert anonymous.status_code == 401
    assert await counts(api, live_server, cid, "ledger") == {"KZ": {"UZ": 5, "GE": 2}}


async def test_no_void_once_the_result_is_frozen_and_the_frozen_result_has_every_void(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = await two_voters(api, live_server)
    stuffer = await ledger.fetchval(
        "SELECT voter_hash FROM votes WHERE contest_id = $1 AND entry = 'UZ' LIMIT 1", cid)
    await open_window(api, live_server, cid, "closed")
    assert (await void(api, live_server, cid, {"voters": [stuffer.hex()]})).status_code == 201
    r = await api.post(f"/api/v1/contests/{cid}/reveal/next", headers=live_server.admin)
    assert r.status_code == 200, r.text
    late = await void(api, live_server, cid, {"until": datetime.now(UTC).isoformat()})
    assert late.status_code == 409 and late.json()["error"]["code"] == "result_frozen"
    final = (await api.get(f"/api/v1/contests/{cid}/results",
                           params={"view": "full"}, headers=live_server.admin)).json()
    kz = next(s for s in final["sets"] if s["from"] == "KZ" and s["body"] == "televote")
    assert set(kz["points"]) == {"GE"}  # the voided UZ votes never reached the frozen result


async def test_150_device_tokens_from_one_network_in_a_burst_are_refused_past_the_limit(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    limit = 20  # DEVICE_TOKENS_PER_NETWORK_PER_MIN's default

    async def mint(i: int) -> httpx.Response:
        return await api.post(f"/api/v1/contests/{cid}/device-token",
                              json={"device": f"device-{i:08d}", "country": "KZ"})

    answers = await asyncio.gather(*(mint(i) for i in range(150)))
    minted = [r for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code != 201]
    # a burst that straddles the minute's end may get a second minute's share
    assert limit <= len(minted) <= 2 * limit, len(minted)
    for r in refused:
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
    other = live_server.new_contest()  # the limit is per contest: another show mints
    r = await api.post(f"/api/v1/contests/{other}/device-token",
                       json={"device": "device-other", "country": "KZ"})
    assert r.status_code == 201, r.text


async def test_no_void_once_the_ledger_is_sealed(live_server: LiveServer,
                                                 api: httpx.AsyncClient) -> None:
    cid = await two_voters(api, live_server)
    await open_window(api, live_server, cid, "closed")
    assert (await api.post(f"/api/v1/contests/{cid}/jury/lock",
                           headers=live_server.admin)).status_code == 200
    sealed = await api.post(f"/api/v1/contests/{cid}/seal", headers=live_server.admin)
    assert sealed.status_code == 200, sealed.text
    late = await void(api, live_server, cid, {"until": datetime.now(UTC).isoformat()})
    assert late.status_code == 409 and late.json()["error"]["code"] == "sealed"
    assert await counts(api, live_server, cid, "ledger") == {"KZ": {"UZ": 5, "GE": 2}}
