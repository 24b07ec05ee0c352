"""The overlay counts down to the scheduled window (issue 18, "Scheduled windows"):
"Voting opens in m:ss" before `opens_at`, the time left to `closes_at` while open, and
the "Lines close in N s" banner in the last ten seconds; the server closes the window
at `closes_at` and the banner gives way to "Voting closed"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import BROADCAST, Admin

pytestmark = pytest.mark.browser
CLOSES_IN_S = 12  # a little over the banner's ten seconds: the test waits that long
WAIT_MS = 30_000


def test_the_overlay_counts_down_and_shows_the_lines_close_banner(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    closes_at = datetime.now(UTC) + timedelta(seconds=CLOSES_IN_S)
    cid = live_server.new_contest(closes_at=closes_at.isoformat())
    admin.window(cid, "open")
    overlay = open_page(f"{live_server.base_url}/overlay/{cid}", BROADCAST)
    overlay.wait_for_function(
        "() => /Televote live · 0:\\d\\d/.test(document.querySelector('#ov-phase').textContent)",
        timeout=WAIT_MS)
    overlay.wait_for_function(
        "() => /^Lines close in ([1-9]|10) s$/.test(document.querySelector('#ov-lines')"
        ".textContent) && !document.querySelector('#ov-lines').classList.contains('hidden')",
        timeout=WAIT_MS)
    overlay.wait_for_function(
        "() => document.querySelector('#ov-phase').textContent === 'Voting closed'"
        " && document.querySelector('#ov-lines').classList.contains('hidden')",
        timeout=WAIT_MS)
    contest = admin.get(f"/api/v1/contests/{cid}")
    assert contest["window"] == "closed"  # the server closed it, nobody pressed a button


def test_the_overlay_counts_down_to_a_scheduled_opening(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    opens_at = datetime.now(UTC) + timedelta(minutes=5)
    response = admin.client.patch(f"/api/v1/contests/{cid}/schedule",
                                  json={"opens_at": opens_at.isoformat()})
    assert response.status_code == 200, response.text
    overlay = open_page(f"{live_server.base_url}/overlay/{cid}", BROADCAST)
    overlay.wait_for_function(
        "() => /^Voting opens in [45]:\\d\\d$/.test(document.querySelector('#ov-phase')"
        ".textContent)", timeout=WAIT_MS)
