"""The scheduled window's countdown on the viewer page and the producer console (schedule.js;
the overlay's is in test_overlay_countdown.py): "opens in m:ss" before `opens_at`, then
the server opens the window and the page counts down to `closes_at`, the value falling
as time passes, until the server closes it and the page shows the window closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import PHONE, Admin, shot, signed_in_console

pytestmark = pytest.mark.browser
OPENS_IN_S = 6
CLOSES_IN_S = 16
WAIT_MS = 30_000

# The countdown's seconds ("… 0:12 …" → 12, "1:02:03" → 3723), or null without one.
SECONDS_LEFT = """() => {
  const m = document.querySelector('#window-countdown').textContent.match(/(\\d+(?::\\d\\d)+)/);
  return m ? m[1].split(':').reduce((n, part) => n * 60 + Number(part), 0) : null;
}"""


def schedule(admin: Admin, cid: str) -> datetime:
    """opens_at and closes_at a few seconds away; returns closes_at."""
    now = datetime.now(UTC)
    opens_at, closes_at = now + timedelta(seconds=OPENS_IN_S), now + timedelta(seconds=CLOSES_IN_S)
    response = admin.client.patch(f"/api/v1/contests/{cid}/schedule", json={
        "opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat()})
    assert response.status_code == 200, response.text
    return closes_at


def countdown_reads(page: Any, pattern: str) -> None:
    page.wait_for_function(
        "re => new RegExp(re).test(document.querySelector('#window-countdown').textContent)",
        arg=pattern, timeout=WAIT_MS)


def counts_down_to_the_close(page: Any, pattern: str) -> None:
    """The countdown reads `pattern` and its value falls while the window is open."""
    countdown_reads(page, pattern)
    first = page.evaluate(SECONDS_LEFT)
    assert first is not None and 0 < first <= CLOSES_IN_S - OPENS_IN_S + 1, first
    page.wait_for_function(f"first => ({SECONDS_LEFT})() < first", arg=first, timeout=WAIT_MS)
    later = page.evaluate(SECONDS_LEFT)
    assert later is None or later < first  # it may have reached the close meanwhile


def closed_at_the_close(page: Any, admin: Admin, cid: str, closes_at: datetime,
                        says: str) -> None:
    """The page shows the window closed, not before `closes_at`, its countdown gone and
    its state saying `says`; the server closed it."""
    page.wait_for_selector('#window-state[data-state="closed"]', timeout=WAIT_MS)
    assert datetime.now(UTC) >= closes_at - timedelta(seconds=1), "not before closes_at"
    page.wait_for_function("() => document.querySelector('#window-countdown').textContent"
                           " === ''", timeout=WAIT_MS)
    assert page.inner_text("#window-state") == says
    assert admin.get(f"/api/v1/contests/{cid}")["window"] == "closed"


def test_the_viewer_page_counts_down_to_the_scheduled_open_and_close_and_closes_on_time(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    closes_at = schedule(admin, cid)
    page = open_page(f"{live_server.base_url}/vote/{cid}?lang=en", PHONE)
    page.wait_for_selector('#window-state[data-state="closed"]')
    countdown_reads(page, r"^Voting opens in 0:0[1-6]$")
    shot(page, "vote-countdown-opens")

    # The server opens the window at opens_at; the page follows it live.
    page.wait_for_selector('#window-state[data-state="open"]', timeout=WAIT_MS)
    assert page.inner_text("#window-state") == "Voting is open"
    counts_down_to_the_close(page, r"^Voting closes in 0:\d\d$")
    page.click('#country-list button[data-country="KZ"]')
    page.wait_for_selector("#vote-UZ:not([disabled])")
    shot(page, "vote-countdown-closes")

    closed_at_the_close(page, admin, cid, closes_at, "Voting is closed")
    page.wait_for_selector("#vote-UZ[disabled]")


def test_the_console_counts_down_to_the_scheduled_open_and_close_and_shows_it_closed(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid, page = signed_in_console(live_server, open_page)
    page.wait_for_selector('#window-state[data-state="closed"]')
    closes_at = schedule(admin, cid)  # set while the console is open: it picks it up
    countdown_reads(page, r"^Opens in 0:0[1-6] \(scheduled\)$")
    shot(page, "console-countdown-opens")

    page.wait_for_selector('#window-state[data-state="open"]', timeout=WAIT_MS)
    counts_down_to_the_close(page, r"^Closes in 0:\d\d \(scheduled\)$")
    shot(page, "console-countdown-closes")

    closed_at_the_close(page, admin, cid, closes_at, "CLOSED")
