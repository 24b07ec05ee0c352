"""The overlay under `results_visibility` (issue 15, hole 6): while the window is open
an `after_close` contest's overlay shows the show's title and "voting open", no
standings; once voting closes, the board."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.conftest import BROADCAST, Admin

pytestmark = pytest.mark.browser


def test_the_overlay_shows_no_standings_while_an_after_close_window_is_open(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest(results_visibility="after_close")
    admin.window(cid, "open")
    for i in range(3):
        token = admin.voter_token(cid, f"+7701{i:04d}", "KZ")
        admin.vote(cid, token, "UZ", str(uuid.uuid4()))
    overlay = open_page(f"{live_server.base_url}/overlay/{cid}?title=Silk%20Way%20Star",
                        BROADCAST)
    overlay.wait_for_selector('#board[data-hidden="true"]')
    assert overlay.locator("#ov-title").inner_text() == "Silk Way Star"
    assert overlay.locator("#ov-phase").inner_text().startswith("Voting open")
    assert overlay.locator("#board .ov-row").count() == 0
    admin.window(cid, "closed")
    overlay.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    assert overlay.locator('#board .ov-row[data-country="UZ"] .place').inner_text() == "1"
