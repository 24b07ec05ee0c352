"""Swagger UI and ReDoc work offline: every asset comes from this server, the pages keep
their Content-Security-Policy, and every operation of the document is shown.

The browser may reach 127.0.0.1 only; any other request is aborted and fails the test,
as it would stay blank on a show's isolated network.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.browser.conftest import DESK, shot

pytestmark = [pytest.mark.browser, pytest.mark.stores_independent]
METHODS = {"get", "post", "put", "patch", "delete"}


def operation_ids(base_url: str) -> list[str]:
    document = httpx.get(f"{base_url}/schema/openapi.json", timeout=10).json()
    return [op["operationId"] for item in document["paths"].values()
            for method, op in item.items() if method in METHODS]


def open_offline(open_page: Any, url: str) -> tuple[Any, list[str], list[str]]:
    """The page at `url` with every request beyond 127.0.0.1 aborted; (page, requests
    that were refused, same-origin assets that failed)."""
    page = open_page("about:blank", viewport=DESK)
    refused: list[str] = []
    failed: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_local)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.goto(url)
    return page, refused, failed


def test_swagger_ui_renders_every_operation_offline(live_server: Any, open_page: Any) -> None:
    ids = operation_ids(live_server.base_url)
    page, refused, failed = open_offline(open_page, f"{live_server.base_url}/schema/swagger")
    # a function, not an expression: Playwright polls an expression with eval(), which
    # the page's CSP (script-src 'self') refuses once the first look comes too early
    page.wait_for_function("(n) => document.querySelectorAll('.opblock').length >= n",
                           arg=len(ids), timeout=20_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => "
                                      "e.getAttribute('data-path'))")
    assert "/api/v1/contests/{cid}/votes" in paths
    page.click("button.authorize")
    page.wait_for_selector(".auth-container")
    schemes = page.eval_on_selector_all(".auth-container h4", "els => els.map(e => "
                                        "e.textContent)")
    assert {"adminToken", "voterToken", "jurorSession", "aggregatorKey", "resultsToken"} \
        <= {s.split(" ")[0].strip() for s in schemes}
    shot(page, "api-docs-swagger")
    assert refused == [] and failed == []


def test_redoc_renders_every_operation_offline(live_server: Any, open_page: Any) -> None:
    ids = operation_ids(live_server.base_url)
    page, refused, failed = open_offline(open_page, f"{live_server.base_url}/schema/redoc")
    page.wait_for_selector("[data-section-id='operation/castVote']", timeout=20_000)
    shown = page.eval_on_selector_all("[data-section-id^='operation/']", "els => els.map(e => "
                                      "e.getAttribute('data-section-id'))")
    assert {f"operation/{i}" for i in ids} <= set(shown)
    shot(page, "api-docs-redoc")
    assert refused == [] and failed == []

