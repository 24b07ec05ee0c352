"""The session check of tests/conftest.py: an error a route answered but does not
document is reported; documented ones, other methods' 405s and non-API URLs are not."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.apidocs.error_coverage import Served, errors_served, undocumented
from tests.conftest import LiveServer

pytestmark = pytest.mark.stores_independent
DOCUMENT: dict[str, Any] = {"paths": {
    "/api/v1/contests/{cid}": {"get": {"responses": {"200": {}, "404": {}}}},
}}


def metrics_line(method: str, route: str, status: int, count: float = 1.0) -> str:
    labels = f'method="{method}",route="{route}",status="{status}"'
    return f"silkvote_http_request_seconds_count{{{labels}}} {count}\n"


def test_errors_are_read_from_the_request_histogram_with_openapi_templates() -> None:
    text = ("# TYPE silkvote_http_request_seconds histogram\n"
            + metrics_line("GET", "/api/v1/contests/{cid:str}", 404)
            + metrics_line("GET", "/api/v1/contests/{cid:str}", 200)
            + metrics_line("GET", "/api/v1/contests/{cid:str}", 409, count=0.0))
    assert errors_served(text) == {Served("GET", "/api/v1/contests/{cid}", 404)}


def test_an_undocumented_status_is_reported() -> None:
    seen = {Served("GET", "/api/v1/contests/{cid}", 404),
            Served("GET", "/api/v1/contests/{cid}", 503)}
    assert undocumented(seen, DOCUMENT) == [Served("GET", "/api/v1/contests/{cid}", 503)]


def test_a_method_the_path_lacks_may_be_refused_with_405_only() -> None:
    seen = {Served("DELETE", "/api/v1/contests/{cid}", 405),
            Served("DELETE", "/api/v1/contests/{cid}", 400),
            Served("OPTIONS", "/api/v1/contests/{cid}", 400)}
    assert undocumented(seen, DOCUMENT) == [Served("DELETE", "/api/v1/contests/{cid}", 400)]


def test_urls_outside_the_api_are_not_checked() -> None:
    seen = {Served("GET", "/static/{file_path}", 404), Served("GET", "unmatched", 404)}
    assert undocumented(seen, DOCUMENT) == []


def test_the_live_server_counts_a_refusal_under_its_route_template(
        live_server: LiveServer) -> None:
    refused = httpx.post(f"{live_server.base_url}/api/v1/contests/nope/window",
                         json={"state": "open"}, timeout=10)
    assert refused.status_code == 401
    metrics = httpx.get(f"{live_server.base_url}/metrics", timeout=10).text
    assert 'route="/api/v1/contests/{cid}/window",status="401"' in metrics  # the OpenAPI path
    assert Served("POST", "/api/v1/contests/{cid}/window", 401) in errors_served(metrics)
