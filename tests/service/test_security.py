"""Security: every refusal the threat model relies on (docs/security.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.security.tokens import JurorClaims, TokenSigner, VoterClaims
from tests.conftest import LiveServer, Stores, start_server
from tests.service.helpers import (
    aggregator_headers,
    open_window,
    room_in_this_minute,
    voter_headers,
)
from tests.service.test_jury import juror_session, new_juror, ranking_for

SIGNER = TokenSigner("test-signing-secret")  # the test servers' SIGNING_SECRET


async def test_the_ledger_ballots_and_audit_trail_refuse_updates_and_deletes(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+10", "KZ")
    await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "a"},
                   headers=voter)
    for statement in ("UPDATE votes SET entry = 'CN' WHERE contest_id = $1",
                      "DELETE FROM votes WHERE contest_id = $1",
                      "DELETE FROM audit_events WHERE contest_id = $1"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await ledger.execute(statement, cid)


async def test_an_expired_voter_token_is_refused(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    expired = SIGNER.sign(VoterClaims(contest=cid, voter="ab" * 32, country="KZ",
                                      exp=int(time.time()) - 1))
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "a"},
                       headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401


async def test_a_juror_token_is_not_a_voter_token_and_not_valid_for_another_contest(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid, other = live_server.new_contest(), live_server.new_contest()
    await open_window(api, live_server, cid)
    juror = await juror_session(api, (await new_juror(api, live_server, cid, "KZ"))["code"])
    r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "UZ", "key": "a"},
                       headers=juror)
    assert r.status_code == 401
    r = await api.put(f"/api/v1/contests/{other}/ballot", json={"ranking": ranking_for("KZ")},
                      headers=juror)
    assert r.status_code == 403


async def test_a_forged_juror_session_cannot_write_someone_elses_ballot(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    victim = await new_juror(api, live_server, cid, "UZ")
    await juror_session(api, victim["code"])
    forged = TokenSigner("guessed-secret").sign(JurorClaims(
        contest=cid, juror=victim["juror_id"], country="UZ", nonce="x",
        exp=int(time.time()) + 60))
    r = await api.put(f"/api/v1/contests/{cid}/ballot", json={"ranking": ranking_for("UZ")},
                      headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


@pytest.mark.parametrize("path", ["window", "voter-tokens", "aggregator-keys", "jurors",
                                  "jury/lock", "reveal/next", "verify"])
async def test_admin_endpoints_refuse_voter_and_aggregator_credentials(
        live_server: LiveServer, api: httpx.AsyncClient, path: str) -> None:
    cid = live_server.new_contest()
    voter = await voter_headers(api, live_server, cid, "+11", "KZ")
    partner = await aggregator_headers(api, live_server, cid)
    for headers in (voter, partner, {}):
        r = await api.post(f"/api/v1/contests/{cid}/{path}", json={}, headers=headers)
        assert r.status_code in (400, 401), (path, r.status_code)
        assert r.json()["error"]["code"] in ("unauthorized", "invalid_body")
    r = await api.get(f"/api/v1/contests/{cid}/results", params={"view": "full"}, headers=voter)
    assert r.status_code == 401


async def test_voter_ids_juror_codes_and_keys_are_stored_only_as_hashes(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    phone = "+998901234567"
    voter = await voter_headers(api, live_server, cid, phone, "UZ")
    await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": "KZ", "key": "k"},
                   headers=voter)
    juror = await new_juror(api, live_server, cid, "KZ")
    key = (await api.post(f"/api/v1/contests/{cid}/aggregator-keys", json={"name": "t"},
                          headers=live_server.admin)).json()["key"]
    dump = " ".join([
        str(await ledger.fetchval(f"SELECT json_agg(t)::text FROM {table} t "
                                  f"WHERE contest_id = $1", cid))
        for table in ("votes", "voters", "jurors", "aggregator_keys", "audit_events")])
    for secret in (phone, juror["code"], key):
        assert secret not in dump


@pytest.fixture(scope="module")
def limited_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[LiveServer]:
    server = start_server(stores, Path(tmp_path_factory.mktemp("limited")),
                          RATE_LIMIT_VOTER_PER_S="3", RATE_LIMIT_JURY_LOGIN_PER_MIN="5")
    yield server
    server.stop()


async def test_a_voter_sending_faster_than_the_limit_gets_429_rate_limited(
        limited_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=limited_server.base_url) as api:
        cid = limited_server.new_contest()
        await open_window(api, limited_server, cid)
        voter = await voter_headers(api, limited_server, cid, "+12", "KZ")
        answers = [await api.post(f"/api/v1/contests/{cid}/votes",
                                  json={"entry": "UZ", "key": str(i)}, headers=voter)
                   for i in range(8)]
    codes = [r.status_code for r in answers]
    assert 429 in codes and codes.count(201) >= 3
    # the one-second window ends within a second: that is the wait a client is told
    assert all(r.headers["retry-after"] == "1" for r in answers if r.status_code == 429)


async def test_guessing_juror_codes_is_rate_limited(limited_server: LiveServer) -> None:
    import secrets

    room_in_this_minute()  # the limit counts per calendar minute
    # a fresh client address: all of 127/8 reaches the loopback server
    source = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7"
    async with httpx.AsyncClient(base_url=limited_server.base_url,
                                 transport=httpx.AsyncHTTPTransport(local_address=source)) as api:
        codes = [(await api.post("/api/v1/jury/session", json={"code": f"GUES-S{i}"})).status_code
                 for i in range(8)]
    assert codes == [401] * 5 + [429] * 3


def test_pages_carry_security_headers(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.base_url}/vote/silk-way-star")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
