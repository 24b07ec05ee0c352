"""The console's websocket flow, browser-free: the pages' own JavaScript, run in Node.

`LeaderboardSocket` (service/web/static/common.js) trades the admin token for a
single-use ticket and opens the socket with it; the token never appears in a URL.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.web.pages import STATIC_DIR
from tests.conftest import LiveServer, Stores, start_server

NODE = shutil.which("node")
SCRIPT = Path(__file__).parent / "js" / "console_socket.mjs"

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js runs the pages' module")


def run_socket(server: LiveServer, cid: str, token: str) -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--experimental-websocket", "--no-warnings", str(SCRIPT), server.base_url,
         cid, token, (STATIC_DIR / "common.js").as_uri()],
        capture_output=True, text=True, timeout=30, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_console_socket_buys_a_ticket_and_gets_the_full_view(
        live_server: LiveServer) -> None:
    cid = live_server.new_contest()
    seen = run_socket(live_server, cid, live_server.admin_token)
    assert seen["full"] is True and "live" in seen["states"]
    assert seen["posted"] == ["POST /api/v1/ws-tickets"]
    [url] = seen["urls"]
    assert "?ticket=" in url and live_server.admin_token not in url


def test_a_refused_token_shows_unauthorized_and_opens_no_socket(
        stores: Stores, tmp_path: Path) -> None:
    server = start_server(stores, tmp_path, RESULTS_TOKEN="results-" + "r" * 24)
    try:
        seen = run_socket(server, server.new_contest(), "not-the-results-token")
    finally:
        server.stop()
    assert seen["states"][-1] == "unauthorized" and seen["urls"] == []
    assert seen["posted"] == ["POST /api/v1/ws-tickets"]
