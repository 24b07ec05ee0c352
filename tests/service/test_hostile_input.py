"""Hostile input gets a clear 4xx, never a 500: control characters, wrong content
types, non-canonical tokens; and every 429 says when to come back."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from service.security.tokens import TokenSigner, VoterClaims
from tests.conftest import LiveServer, contest_body
from tests.service.helpers import aggregator_headers, open_window, voter_headers

CONTROLS = ["\n", "\x00", "\r", "\t", "\x1b", "\x7f", "\x85"]


def clean_refusal(r: httpx.Response, status: int = 400) -> str:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return str(body["error"]["code"])


def entry_with(country: str) -> dict[str, Any]:
    body = contest_body()
    body["entries"][0]["country"] = country
    return body


@pytest.fixture(scope="module")
async def setup(live_server: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        cid = live_server.new_contest()
        await open_window(api, live_server, cid)
        voter = await voter_headers(api, live_server, cid, "+hostile", "KZ")
        partner = await aggregator_headers(api, live_server, cid)
        juror = (await api.post(f"/api/v1/contests/{cid}/jurors",
                                json={"country": "KZ", "name": "J"},
                                headers=live_server.admin)).json()
        session = (await api.post("/api/v1/jury/session", json={"code": juror["code"]})).json()
    return {"cid": cid, "voter": voter, "partner": partner, "admin": live_server.admin,
            "juror": {"Authorization": f"Bearer {session['token']}"}}


def write_calls(s: dict[str, Any], bad: str) -> list[tuple[str, str, dict[str, str], Any]]:
    """One call per string field of every write endpoint, with `bad` inside the field."""
    cid = s["cid"]
    admin, voter, partner, juror = s["admin"], s["voter"], s["partner"], s["juror"]
    contest = contest_body()

    def contest_with(**changes: Any) -> dict[str, Any]:
        return {**contest, **changes}

    entries = contest["entries"]
    batch_vote = {"id": "v1", "voter": "+1", "country": "KZ", "entry": "UZ"}
    return [
        ("POST", "/api/v1/contests", admin, entry_with(f"KZ{bad}")),
        ("POST", "/api/v1/contests", admin, contest_with(name=f"Final{bad}")),
        ("POST", "/api/v1/contests", admin, contest_with(
            entries=[{**entries[0], "artist": f"A{bad}rtist"}, *entries[1:]])),
        ("POST", "/api/v1/contests", admin, contest_with(
            entries=[{**entries[0], "song": f"So{bad}ng"}, *entries[1:]])),
        ("POST", "/api/v1/contests", admin, contest_with(
            voting_countries=[f"UZ{bad}", *contest["voting_countries"][1:]])),
        ("POST", "/api/v1/contests", admin, contest_with(id=f"final{bad}")),
        ("POST", "/api/v1/contests", admin, contest_with(
            rules={"country_weights": {f"KZ{bad}": {"jury": 1, "televote": 1}}})),
        ("POST", "/api/v1/contests", admin, contest_with(
            rules={"weights": {"jury": f"1/2{bad}", "televote": 1}})),
        ("POST", f"/api/v1/contests/{cid}/voter-tokens", admin,
         {"voter": f"+99{bad}1", "country": "KZ"}),
        ("POST", f"/api/v1/contests/{cid}/voter-tokens", admin,
         {"voter": "+991", "country": f"KZ{bad}"}),
        ("POST", f"/api/v1/contests/{cid}/aggregator-keys", admin, {"name": f"telco{bad}"}),
        ("POST", f"/api/v1/contests/{cid}/jurors", admin, {"country": f"KZ{bad}", "name": "J"}),
        ("POST", f"/api/v1/contests/{cid}/jurors", admin, {"country": "KZ", "name": f"J{bad}"}),
        ("POST", "/api/v1/jury/session", {}, {"code": f"ABCD-{bad}EFG-HJKL"}),
        ("PUT", f"/api/v1/contests/{cid}/ballot", juror, {"ranking": [f"UZ{bad}"]}),
        ("POST", f"/api/v1/contests/{cid}/votes", voter, {"entry": f"UZ{bad}", "key": "k"}),
        ("POST", f"/api/v1/contests/{cid}/votes", voter, {"entry": "UZ", "key": f"k{bad}"}),
        *[("POST", f"/api/v1/contests/{cid}/votes/batch", partner,
           {"votes": [{**batch_vote, field: f"{batch_vote[field]}{bad}"}]})
          for field in batch_vote],
        ("POST", f"/api/v1/contests/{cid}/device-token", {},
         {"device": f"device-{bad}-0001", "country": "KZ"}),
        ("POST", f"/api/v1/contests/{cid}/device-token", {},
         {"device": "device-0001", "country": f"KZ{bad}"}),
    ]


@pytest.mark.parametrize("bad", CONTROLS, ids=[repr(c) for c in CONTROLS])
async def test_a_control_character_in_any_string_field_is_a_400_invalid_body(
        live_server: LiveServer, setup: dict[str, Any], bad: str) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        for method, path, headers, body in write_calls(setup, bad):
            r = await api.request(method, path, json=body, headers=headers)
            assert clean_refusal(r) == "invalid_body", (path, body)


@pytest.mark.parametrize("cid", ["ab%00c", "ab%0Ac", "ab%1Bc", "%7F"])
async def test_a_control_character_in_a_path_parameter_is_a_4xx(
        live_server: LiveServer, cid: str) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        for method, path in [("GET", f"/api/v1/contests/{cid}"),
                             ("GET", f"/api/v1/contests/{cid}/results"),
                             ("POST", f"/api/v1/contests/{cid}/window")]:
            r = await api.request(method, path, json={"state": "open"},
                                  headers=live_server.admin)
            assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonp"])
async def test_a_body_not_sent_as_json_is_415_and_changes_nothing(
        live_server: LiveServer, setup: dict[str, Any], content_type: str | None) -> None:
    headers = {**setup["voter"], **({"Content-Type": content_type} if content_type else {})}
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        r = await api.post(f"/api/v1/contests/{setup['cid']}/votes", headers=headers,
                           content=b'{"entry": "UZ", "key": "plain"}')
        assert clean_refusal(r, 415) == "unsupported_media_type"
        assert r.headers["x-request-id"]
        me = (await api.get(f"/api/v1/contests/{setup['cid']}/votes/me",
                            headers=setup["voter"])).json()
    assert me["used"] == 0


async def test_refusals_before_routing_keep_one_header_set_however_many_are_sent(
        live_server: LiveServer) -> None:
    """Each refusal carried the X-Request-ID of every earlier one (a shared header list
    grew), until clients gave up on the response: 'got more than 100 headers'."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        for n in range(120):
            r = await api.post("/api/v1/contests/%1F/votes", content=b"{}",
                               headers={"Content-Type": "application/json"})
            assert clean_refusal(r, 400) == "invalid_path"
            assert len(r.headers.get_list("x-request-id")) == 1, n


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/vnd.silkvote+json"])
async def test_json_content_types_are_accepted(
        live_server: LiveServer, setup: dict[str, Any], content_type: str) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        r = await api.post(f"/api/v1/contests/{setup['cid']}/votes",
                           headers={**setup["voter"], "Content-Type": content_type},
                           content=b'{"entry": "UZ", "key": "%s"}' % content_type.encode())
    assert r.status_code == 201, r.text


def respelled(token: str) -> list[str]:
    """Spellings of `token` a lenient base64 decoder reads as the same bytes."""
    payload, mac = token.split(".")
    raw_mac = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    spellings = [f"{payload}.{mac}=", f"{payload}=.{mac}", f"{payload}.{mac}==",
                 f"{payload}.{mac[:5]}!{mac[5:]}", f"{payload}.{mac[:5]}~{mac[5:]}"]
    # the last character of a 32-byte MAC carries 2 unused bits: set them
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(mac[-1])
    spellings += [f"{payload}.{mac[:-1]}{alphabet[last | bits]}" for bits in (1, 2, 3)
                  if last | bits != last]
    assert all(s != token for s in spellings) and len(raw_mac) == 32
    return spellings


async def test_a_token_has_exactly_one_spelling(
        live_server: LiveServer, setup: dict[str, Any]) -> None:
    token = setup["voter"]["Authorization"].removeprefix("Bearer ")
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        me = f"/api/v1/contests/{setup['cid']}/votes/me"
        assert (await api.get(me, headers=setup["voter"])).status_code == 200
        for spelling in respelled(token):
            r = await api.get(me, headers={"Authorization": f"Bearer {spelling}"})
            assert r.status_code == 401, spelling


def test_the_signer_refuses_every_other_spelling_of_a_genuine_token() -> None:
    signer = TokenSigner("spelling-secret")
    token = signer.sign(VoterClaims(contest="c", voter="ab" * 32, country="KZ", exp=2**40))
    assert signer.verify(token, VoterClaims) is not None
    for spelling in respelled(token):
        assert signer.verify(spelling, VoterClaims) is None, spelling


async def test_a_vote_past_the_cap_says_not_to_retry_tonight(
        live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        cid = live_server.new_contest(vote_cap=1)
        await open_window(api, live_server, cid)
        voter = await voter_headers(api, live_server, cid, "+cap", "KZ")
        votes = f"/api/v1/contests/{cid}/votes"
        assert (await api.post(votes, json={"entry": "UZ", "key": "1"},
                               headers=voter)).status_code == 201
        r = await api.post(votes, json={"entry": "UZ", "key": "2"}, headers=voter)
    assert clean_refusal(r, 429) == "vote_cap_reached"
    assert int(r.headers["retry-after"]) >= 3600
