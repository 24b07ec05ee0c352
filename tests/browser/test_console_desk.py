"""The producer console's jury desk and show safety in a real browser: jurors created and
their codes printed with a QR code, ballots per jury live, the juries that the lock
would replace named before it, confirms on close and lock, and no reopening of voting
once the reveal has started."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DESK, TABLET, Admin, console_sign_in, shot, signed_in_console
from tests.browser.test_show_pages import submit_ballots

pytestmark = pytest.mark.browser


def test_jury_desk_creates_jurors_with_printable_qr_cards_and_counts_ballots_live(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid, page = signed_in_console(live_server, open_page)
    page.wait_for_selector('#jury-progress tr[data-country="UZ"] td.ballots:text-is("0/5")')
    assert page.locator("#jury-progress tr").count() == 12  # every jury, not WW
    assert page.is_disabled("#print-codes")

    page.select_option("#juror-country", "UZ")
    page.fill("#juror-name", "Dilnoza Karimova")
    page.click("#add-juror")
    card = page.wait_for_selector('.juror-card[data-country="UZ"]')
    code = page.inner_text(".juror-card .juror-code")
    assert page.inner_text(".juror-card .url") == f"{live_server.base_url}/jury#code={code}"
    page.wait_for_function("() => document.querySelector('.juror-card img.qr').naturalWidth > 0")
    assert page.is_enabled("#print-codes")
    page.wait_for_selector('#jury-progress tr[data-country="UZ"] td.n:text-is("1")')
    page.emulate_media(media="print")
    page.evaluate("window.scrollTo(0, 0)")
    assert card.is_visible() and not page.is_visible("#reveal-h")
    shot(page, "console-juror-cards-print")
    page.emulate_media(media="screen")

    # The card's link signs the juror in: the jury page opens with the code filled in.
    jury = open_page(f"{live_server.base_url}/jury#code={code}", TABLET)
    assert jury.input_value("#code") == code
    assert "#code" not in jury.url
    session = httpx.post(f"{live_server.base_url}/api/v1/jury/session", json={"code": code},
                         timeout=10).json()
    ranking = [c["country"] for c in admin.get(f"/api/v1/contests/{cid}")["entries"]
               if c["country"] != "UZ"]
    r = httpx.put(f"{live_server.base_url}/api/v1/contests/{cid}/ballot",
                  json={"ranking": ranking}, timeout=10,
                  headers={"Authorization": f"Bearer {session['token']}"})
    assert r.status_code == 200
    page.wait_for_selector('#jury-progress tr[data-country="UZ"] td.ballots:text-is("1/5")')
    shot(page, "console-jury-desk")


def test_the_lock_names_every_jury_that_will_get_a_substitute_and_takes_a_confirm(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid, page = signed_in_console(live_server, open_page)
    page.wait_for_selector("#lock-warning:not(.hidden)")
    assert "No jury has enough ballots" in page.inner_text("#lock-warning")

    submit_ballots(live_server, admin, cid, "KZ", 3)
    page.wait_for_selector('#jury-progress tr[data-country="KZ"] td.ballots:text-is("3/5")')
    page.wait_for_selector('#lock-warning li[data-country="AM"]')
    warned = page.eval_on_selector_all("#lock-warning li", "els => els.map(e => e.dataset.country)")
    expected = admin.get(f"/api/v1/contests/{cid}/jury/progress")["substitutes"]
    assert sorted(warned) == sorted(expected) and len(warned) == 11 and "KZ" not in warned
    assert page.get_attribute('#lock-warning li[data-country="AM"]', "title") == \
        "Armenia's jury — substitute result"
    shot(page, "console-lock-warning")

    page.click("#lock-jury")
    assert page.inner_text("#lock-jury") == "Tap again to lock"
    assert admin.get(f"/api/v1/contests/{cid}")["jury_locked"] is False
    page.click("#lock-jury")
    page.wait_for_selector('#jury-state[data-state="locked"]')
    page.wait_for_selector("#lock-warning.hidden", state="attached")
    page.wait_for_selector(
        '#jury-progress tr[data-country="AM"] td.state:text-is("substitute result")')


def test_close_takes_a_confirm_and_voting_stays_closed_once_the_reveal_started(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    admin.window(cid, "open")
    token = admin.voter_token(cid, "+77001234567", "KZ")
    admin.vote(cid, token, "UZ", str(uuid.uuid4()))
    page = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    console_sign_in(page, live_server.admin_token)
    page.wait_for_selector('#window-state[data-state="open"]')

    page.click("#close-window")  # the first tap only arms the button
    assert page.inner_text("#close-window") == "Tap again to close"
    assert admin.get(f"/api/v1/contests/{cid}")["window"] == "open"
    page.click("#close-window")
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.is_enabled("#open-window")

    page.click("#reveal-next")
    page.wait_for_selector('#reveal-steps li[data-step="1"]')
    page.wait_for_selector("#open-window[disabled]")
    assert page.is_visible("#window-note")
    # Even a console that still offers the button is refused by the server.
    page.evaluate("() => { const b = document.getElementById('open-window');"
                  " b.disabled = false; b.click(); }")
    page.wait_for_selector("#action-msg.error")
    assert "voting cannot be reopened" in page.inner_text("#action-msg")
    assert admin.get(f"/api/v1/contests/{cid}")["window"] == "closed"
    shot(page, "console-reveal-started")
