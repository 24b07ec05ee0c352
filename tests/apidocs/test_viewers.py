"""The documentation pages as HTTP sees them: only this origin's files, the pages'
security headers, and the vendored assets with their licences."""

from __future__ import annotations

import re

import httpx
import pytest

from service.web.pages import STATIC_DIR, content_security_policy
from tests.conftest import LiveServer

pytestmark = pytest.mark.stores_independent
VIEWERS = ["/schema/swagger", "/schema/redoc"]


@pytest.mark.parametrize("path", VIEWERS)
def test_a_viewer_page_loads_only_files_of_this_origin_and_no_inline_script(
        live_server: LiveServer, path: str) -> None:
    page = httpx.get(live_server.base_url + path, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r"(?:src|href)='([^']*)'", page.text)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls)
    assert re.findall(r"<script>|<script [^>]*>[^<]", page.text) == []
    for url in urls:
        assert httpx.get(live_server.base_url + url, timeout=10).status_code == 200, url


def test_swagger_keeps_the_pages_strict_policy(live_server: LiveServer) -> None:
    headers = httpx.get(f"{live_server.base_url}/schema/swagger", timeout=10).headers
    assert headers["content-security-policy"] == content_security_policy("'self'")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "SAMEORIGIN"


def test_redoc_may_add_styles_and_a_search_worker_but_no_foreign_script(
        live_server: LiveServer) -> None:
    csp = httpx.get(f"{live_server.base_url}/schema/redoc", timeout=10).headers[
        "content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self' 'unsafe-inline'" in csp
    assert "worker-src 'self' blob:" in csp and "https:" not in csp


@pytest.mark.parametrize("path", [
    "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui-standalone-preset.js",
    "swagger-ui/swagger-ui.css", "swagger-ui/LICENSE", "swagger-ui/NOTICE",
    "redoc/redoc.standalone.js", "redoc/LICENSE",
])
def test_the_vendored_assets_and_their_licences_are_served(live_server: LiveServer,
                                                           path: str) -> None:
    response = httpx.get(f"{live_server.base_url}/static/vendor/{path}", timeout=10)
    assert response.status_code == 200 and len(response.content) > 50


def test_the_vendored_bundles_load_nothing_from_a_cdn() -> None:
    for bundle in (STATIC_DIR / "vendor").rglob("*.js"):
        assert "cdn." not in bundle.read_text(errors="replace"), bundle
