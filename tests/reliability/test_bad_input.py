"""Every request decoder refuses garbage with a clear 4xx, and stores nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LiveServer

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                               max_size=5),
    max_leaves=20,
)
ODD_TEXT = st.sampled_from(["", "\u0000", "UZ\u200b", "\ufeffKZ", "ＵＺ", "uz", "🇺🇿",
                            "a" * 10_000, "\ud7ff", "KZ\n"])
FIELD_VALUES = JSON | ODD_TEXT


def refused_cleanly(response: httpx.Response) -> bool:
    body = response.json()
    return 400 <= response.status_code < 500 and set(body) == {"error"} and set(
        body["error"]) == {"code", "message"}


@pytest.fixture(scope="module")
def target(live_server: LiveServer) -> dict[str, Any]:
    cid = live_server.new_contest()
    with httpx.Client(base_url=live_server.base_url, timeout=10) as api:
        api.post(f"/api/v1/contests/{cid}/window", json={"state": "open"},
                 headers=live_server.admin)
        voter = api.post(f"/api/v1/contests/{cid}/voter-tokens",
                         json={"voter": "+1", "country": "KZ"}, headers=live_server.admin)
        partner = api.post(f"/api/v1/contests/{cid}/aggregator-keys", json={"name": "p"},
                           headers=live_server.admin)
    return {"cid": cid, "voter": voter.json()["token"], "partner": partner.json()["key"],
            "server": live_server}


def results_votes(target: dict[str, Any]) -> Any:
    server: LiveServer = target["server"]
    return httpx.get(f"{server.base_url}/api/v1/contests/{target['cid']}/results",
                     params={"source": "ledger"}).json()["votes"]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=JSON)
def test_random_json_bodies_are_refused_with_4xx_on_every_write_endpoint(
        target: dict[str, Any], body: Any) -> None:
    server: LiveServer = target["server"]
    cid = target["cid"]
    calls = [
        ("POST", f"/api/v1/contests/{cid}/votes", target["voter"]),
        ("POST", f"/api/v1/contests/{cid}/votes/batch", target["partner"]),
        ("POST", "/api/v1/contests", server.admin_token),
        ("POST", f"/api/v1/contests/{cid}/window", server.admin_token),
        ("POST", "/api/v1/jury/session", None),
    ]
    with httpx.Client(base_url=server.base_url, timeout=10) as api:
        for method, path, token in calls:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r = api.request(method, path, json=body, headers=headers)
            if r.status_code < 300:  # a random body that happens to be valid is fine
                continue
            assert refused_cleanly(r), (path, r.status_code, r.text[:300])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(entry=FIELD_VALUES, key=FIELD_VALUES)
def test_odd_vote_fields_never_reach_the_ledger(target: dict[str, Any], entry: Any,
                                                key: Any) -> None:
    server: LiveServer = target["server"]
    r = httpx.post(f"{server.base_url}/api/v1/contests/{target['cid']}/votes",
                   json={"entry": entry, "key": key},
                   headers={"Authorization": f"Bearer {target['voter']}"})
    if r.status_code in (200, 201):
        assert entry in {"AZ", "AM", "GE", "IN", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"}
        assert isinstance(key, str) and 1 <= len(key) <= 128
    else:
        assert refused_cleanly(r), r.text[:300]


def test_deeply_nested_and_oversized_bodies_are_400(target: dict[str, Any]) -> None:
    server: LiveServer = target["server"]
    url = f"{server.base_url}/api/v1/contests/{target['cid']}/votes/batch"
    headers = {"Authorization": f"Bearer {target['partner']}",
               "Content-Type": "application/json"}
    before = results_votes(target)
    deep = "[" * 100_000 + "]" * 100_000
    for content in (deep.encode(), b'{"votes": ' + deep.encode() + b"}",
                    json.dumps({"votes": [{"id": "x" * 200, "voter": "v", "country": "KZ",
                                           "entry": "UZ"}]}).encode(),
                    b"\xff\xfe not utf-8", b'{"votes": [' + b'{"id":"1"},' * 400_000 + b"{}]}"):
        r = httpx.post(url, content=content, headers=headers, timeout=30)
        assert r.status_code == 400 and refused_cleanly(r), r.text[:200]
    assert results_votes(target) == before
