"""The vote lane answers a single vote exactly as the framework route does.

`POST …/votes` is served by `service/intake/lane.py` unless `VOTE_LANE=false`; the
Litestar route it bypasses stays the reference. Each test sends the same request to a
server with the lane and to one without it, on the same stores, and compares what a
client sees: status, body and headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LiveServer, Stores, start_server

VOLATILE_HEADERS = {"date", "x-request-id"}


@pytest.fixture(scope="module")
def framework_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[LiveServer]:
    server = start_server(stores, tmp_path_factory.mktemp("no-lane"), VOTE_LANE="false")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def contest(live_server: LiveServer) -> dict[str, str]:
    """A closed contest and tokens: a KZ voter's, and one of another contest."""
    cid = live_server.new_contest()
    other = live_server.new_contest()
    mint = "/api/v1/contests/{}/voter-tokens"
    token = live_server.call("POST", mint.format(cid), {"voter": "+7700100", "country": "KZ"})
    foreign = live_server.call("POST", mint.format(other), {"voter": "+7700100",
                                                            "country": "KZ"})
    return {"cid": cid, "token": token["token"], "foreign": foreign["token"]}


def seen(server: LiveServer, cid: str, body: bytes, headers: dict[str, str],
         query: str = "") -> tuple[int, bytes, dict[str, str]]:
    r = httpx.post(f"{server.base_url}/api/v1/contests/{cid}/votes{query}", content=body,
                   headers=headers, timeout=10)
    kept = {k: v for k, v in r.headers.items() if k not in VOLATILE_HEADERS}
    return r.status_code, r.content, kept


def same_answer(live_server: LiveServer, framework_server: LiveServer, cid: str, body: bytes,
                headers: dict[str, str], query: str = "") -> tuple[int, bytes, dict[str, str]]:
    lane = seen(live_server, cid, body, headers, query)
    framework = seen(framework_server, cid, body, headers, query)
    assert lane == framework, f"lane {lane!r} != framework {framework!r}"
    return lane


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["KZ", "AZ", "UZ", "FR", "kz", "KZ\n", "K\x00", "", "k" * 129]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6)
vote_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={"entry": json_values, "key": json_values,
                                        "extra": json_values}).map(msgspec.json.encode),
    json_values.map(msgspec.json.encode),
    st.binary(max_size=40),
)
auth = st.sampled_from(["token", "foreign", "none", "basic", "garbage", "empty"])


def auth_headers(kind: str, contest: dict[str, str]) -> dict[str, str]:
    return {"token": {"Authorization": f"Bearer {contest['token']}"},
            "foreign": {"Authorization": f"Bearer {contest['foreign']}"},
            "none": {},
            "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
            "garbage": {"Authorization": "Bearer not.a-token"},
            "empty": {"Authorization": "Bearer"}}[kind]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=vote_bodies, who=auth,
       content_type=st.sampled_from(["application/json", "text/plain", None]),
       query=st.sampled_from(["", "?a=1", "?token=abc", "?token="]))
def test_any_request_to_a_closed_contest_gets_the_frameworks_answer(
        live_server: LiveServer, framework_server: LiveServer, contest: dict[str, str],
        body: bytes, who: str, content_type: str | None, query: str) -> None:
    headers = auth_headers(who, contest)
    if content_type:
        headers["Content-Type"] = content_type
    status, answer, _ = same_answer(live_server, framework_server, contest["cid"], body,
                                    headers, query)
    assert status < 500, answer
    assert status == 201 or set(msgspec.json.decode(answer)) == {"error"}


def test_cross_origin_callers_get_the_same_cors_headers(
        live_server: LiveServer, framework_server: LiveServer, contest: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {contest['token']}", "Origin": "https://app.example",
               "Content-Type": "application/json"}
    _, _, kept = same_answer(live_server, framework_server, contest["cid"],
                             b'{"entry":"AZ","key":"k"}', headers)
    assert kept["access-control-allow-origin"] == "*"


def test_an_unknown_contest_and_a_bad_path_are_refused_alike(
        live_server: LiveServer, framework_server: LiveServer, contest: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {contest['token']}", "Content-Type": "application/json"}
    status, _, _ = same_answer(live_server, framework_server, "no-such-contest",
                               b'{"entry":"AZ","key":"k"}', headers)
    assert status == 403  # the token names its own contest
    r1 = httpx.post(f"{live_server.base_url}/api/v1/contests//votes", headers=headers)
    r2 = httpx.post(f"{framework_server.base_url}/api/v1/contests//votes", headers=headers)
    assert (r1.status_code, r1.content) == (r2.status_code, r2.content)


def test_an_accepted_vote_and_its_retry_read_the_same_through_either_path(
        live_server: LiveServer, framework_server: LiveServer, contest: dict[str, str]) -> None:
    cid = contest["cid"]
    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    try:
        headers = {"Authorization": f"Bearer {contest['token']}",
                   "Content-Type": "application/json"}
        first = seen(live_server, cid, b'{"entry":"AZ","key":"via-lane"}', headers)
        retry = seen(framework_server, cid, b'{"entry":"AZ","key":"via-lane"}', headers)
        receipt = msgspec.json.decode(first[1])["receipt"]
        assert (first[0], msgspec.json.decode(first[1])) == (
            201, {"accepted": True, "remaining": 19, "receipt": receipt})
        assert (retry[0], msgspec.json.decode(retry[1])) == (
            200, {"accepted": True, "remaining": 19, "duplicate": True, "receipt": receipt})
        other = seen(framework_server, cid, b'{"entry":"UZ","key":"via-framework"}', headers)
        again = seen(live_server, cid, b'{"entry":"UZ","key":"via-framework"}', headers)
        assert other[0] == 201 and again[0] == 200
        assert first[2] == other[2]  # the same headers on a 201 from either path
    finally:
        live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "closed"})


def test_lane_votes_are_timed_under_the_route_template(live_server: LiveServer,
                                                       contest: dict[str, str]) -> None:
    # its own vote (refused: the window is closed), not another test's, makes the series
    status, _, _ = seen(live_server, contest["cid"], b'{"entry":"AZ","key":"metrics"}',
                        {"Authorization": f"Bearer {contest['token']}",
                         "Content-Type": "application/json"})
    assert status == 409
    text = httpx.get(f"{live_server.base_url}/metrics").text
    route = 'route="/api/v1/contests/{cid}/votes"'
    lines: list[Any] = [line for line in text.splitlines()
                        if line.startswith("silkvote_http_request_seconds_count")
                        and route in line and 'method="POST"' in line and 'status="409"' in line]
    assert lines, "no latency series for the lane's route"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_the_lane_echoes_the_request_id_as_the_framework_does(
        live_server: LiveServer, framework_server: LiveServer, contest: dict[str, str],
        content_type: str) -> None:
    """Answered (409, the window is closed) or refused by its shape (415), a vote's answer
    carries the client's sane X-Request-ID, and a fresh one in place of an insane one."""
    for server in (live_server, framework_server):
        answers = [httpx.post(f"{server.base_url}/api/v1/contests/{contest['cid']}/votes",
                              content=b'{"entry":"AZ","key":"rid"}', timeout=10,
                              headers={"Authorization": f"Bearer {contest['token']}",
                                       "Content-Type": content_type, "X-Request-ID": given})
                   for given in ("show-42.a_b", "two words")]
        assert [r.status_code for r in answers] == [
            409 if content_type == "application/json" else 415] * 2
        assert answers[0].headers["x-request-id"] == "show-42.a_b"
        assert answers[1].headers["x-request-id"] not in ("", "two words")


def test_no_answer_names_the_server_software(live_server: LiveServer,
                                             contest: dict[str, str]) -> None:
    """`server: uvicorn` told a scanner what to probe and a client nothing (cli/server.py)."""
    vote = httpx.post(f"{live_server.base_url}/api/v1/contests/{contest['cid']}/votes",
                      json={"entry": "AZ", "key": "srv"}, timeout=10,
                      headers={"Authorization": f"Bearer {contest['token']}"})
    health = httpx.get(f"{live_server.base_url}/healthz", timeout=10)
    assert vote.status_code == 409 and health.status_code == 200
    assert "server" not in vote.headers and "server" not in health.headers
    assert vote.headers["date"] and health.headers["date"]  # RFC 9110: a server with a clock


def test_an_oversized_vote_gets_the_frameworks_answer(
        live_server: LiveServer, framework_server: LiveServer, contest: dict[str, str]) -> None:
    body = b'{"entry":"AZ","key":"big","pad":"' + b"x" * (5 * 1024 * 1024) + b'"}'
    status, answer, _ = same_answer(live_server, framework_server, contest["cid"], body,
                                    {"Authorization": f"Bearer {contest['token']}",
                                     "Content-Type": "application/json"})
    assert status == 400 and b"body_too_large" in answer
