"""The pages' HTTP side: security headers, static files, and the index (no browser)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

PAGES = ["/", "/jury", "/vote/any-contest", "/console/any-contest"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_security_headers(live_server: Any, path: str) -> None:
    response = httpx.get(live_server.base_url + path, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self' ws: wss:" in csp
    assert "frame-ancestors 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


def test_overlay_may_be_embedded_anywhere(live_server: Any) -> None:
    response = httpx.get(f"{live_server.base_url}/overlay/any-contest", timeout=10)
    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", ["common.js", "flags.js", "i18n.js", "vote.js", "jury.js",
                                  "console.js", "overlay.js", "index.js", "base.css"])
def test_static_files_are_served_with_their_types(live_server: Any, name: str) -> None:
    response = httpx.get(f"{live_server.base_url}/static/{name}", timeout=10)
    assert response.status_code == 200
    kind = "text/css" if name.endswith(".css") else "javascript"
    assert kind in response.headers["content-type"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_static_files_stay_inside_their_folder(live_server: Any) -> None:
    response = httpx.get(f"{live_server.base_url}/static/../pages.py", timeout=10)
    assert response.status_code == 404
    response = httpx.get(f"{live_server.base_url}/static/%2e%2e/pages.py", timeout=10)
    assert response.status_code == 404
