"""The sealed ledger's fingerprint on air (docs/verification.md): once the window has
closed with the jury locked, the producer console and the overlay's final card show the
root's short fingerprint, exactly the one the seal, results and contest APIs report, so
the audience can note it and check the audit later."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BROADCAST, DESK, Admin, console_sign_in, shot
from tests.browser.test_show_pages import cast_votes, submit_ballots

pytestmark = pytest.mark.browser
SEAL_WITHIN_S = 30
WAIT_MS = 30_000


def sealed(admin: Admin, cid: str) -> dict[str, Any]:
    """The seal, once the background seal after the close has made it (within a deadline)."""
    deadline = time.monotonic() + SEAL_WITHIN_S
    while True:
        response = admin.client.get(f"/api/v1/contests/{cid}/seal")
        if response.status_code == 200:
            return dict(response.json())
        assert response.status_code == 409 and response.json()["error"]["code"] == "not_sealed"
        assert time.monotonic() < deadline, f"{cid} was not sealed within {SEAL_WITHIN_S} s"
        time.sleep(0.1)


def test_the_console_and_the_overlays_final_card_show_the_seals_fingerprint(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    for country in ("AZ", "KZ", "UZ"):
        submit_ballots(live_server, admin, cid, country, 3)
    admin.window(cid, "open")
    cast_votes(admin, cid, {"KZ": {"UZ": 2, "CN": 1}, "WW": {"KR": 2}})
    overlay = open_page(f"{live_server.base_url}/overlay/{cid}?winner_hold=500", BROADCAST)
    overlay.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    console = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    console_sign_in(console, live_server.admin_token)
    console.wait_for_selector('#seal-state[data-sealed="false"]')
    assert console.inner_text("#seal-state") == "Not sealed"

    # The producer locks the jury, then closes the lines: that seals it in the background.
    admin.post(f"/api/v1/contests/{cid}/jury/lock")
    admin.window(cid, "closed")
    seal = sealed(admin, cid)
    fingerprint = seal["fingerprint"]
    assert admin.get(f"/api/v1/contests/{cid}/results")["seal"]["fingerprint"] == fingerprint
    assert admin.get(f"/api/v1/contests/{cid}")["seal_public_key"] == seal["public_key"]

    # The console that was open through the close picks the seal up by itself.
    console.wait_for_selector('#seal-state[data-sealed="true"]', timeout=WAIT_MS)
    assert console.get_attribute("#seal-state", "data-fingerprint") == fingerprint
    assert console.inner_text("#seal-state").startswith(f"Sealed {fingerprint} · "
                                                        f"{seal['records']} records · ")
    assert console.get_attribute("#seal-state", "title") == f"root {seal['root']}"
    assert console.is_disabled("#seal")
    shot(console, "console-sealed")

    # The reveal, stepped from the API; the overlay ends on the winner with the fingerprint.
    total = len(admin.get(f"/api/v1/contests/{cid}/results?view=full")["reveal"])
    assert total > 0, "the contest has something to reveal"
    for _ in range(total):
        admin.post(f"/api/v1/contests/{cid}/reveal/next")
    overlay.wait_for_selector('#moment[data-step="final"]', timeout=WAIT_MS)
    on_air = overlay.locator("#moment .seal")
    assert on_air.get_attribute("data-fingerprint") == fingerprint
    assert on_air.inner_text() == fingerprint
    assert on_air.is_visible()
    # Its padlock is drawn, not a glyph: a playout machine may have no emoji font (this one
    # has none: an emoji there went on air as a box).
    lock = on_air.evaluate("el => { const s = getComputedStyle(el, '::before');"
                           " return {mask: s.webkitMaskImage || s.maskImage, w: s.width}; }")
    assert lock["mask"].startswith('url("data:image/svg+xml') and lock["w"] != "0px", lock
    overlay.wait_for_timeout(500)  # the card's entrance, for the picture only
    shot(overlay, "overlay-final-sealed")

    # An overlay opened after the reveal shows the final card, fingerprint and all, at once.
    late = open_page(f"{live_server.base_url}/overlay/{cid}", BROADCAST)
    late.wait_for_selector('#moment[data-step="final"] .seal', timeout=WAIT_MS)
    assert late.get_attribute("#moment .seal", "data-fingerprint") == fingerprint
    public = httpx.get(f"{live_server.base_url}/api/v1/contests/{cid}/results", timeout=10)
    assert public.json()["seal"]["fingerprint"] == fingerprint  # what anyone can read


def test_locking_the_jury_after_the_close_seals_and_the_open_console_shows_it(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    admin.window(cid, "open")
    cast_votes(admin, cid, {"KZ": {"UZ": 1}})
    admin.window(cid, "closed")
    console = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    console_sign_in(console, live_server.admin_token)
    console.wait_for_selector('#seal-state[data-sealed="false"]')
    assert console.is_disabled("#seal"), "no seal while the jury is open"
    admin.post(f"/api/v1/contests/{cid}/jury/lock")  # locking after the close seals too
    seal = sealed(admin, cid)
    console.wait_for_selector('#seal-state[data-sealed="true"]', timeout=WAIT_MS)
    assert console.get_attribute("#seal-state", "data-fingerprint") == seal["fingerprint"]
    # A second seal returns the first: the admin API and the console agree.
    assert admin.post(f"/api/v1/contests/{cid}/seal")["fingerprint"] == seal["fingerprint"]
