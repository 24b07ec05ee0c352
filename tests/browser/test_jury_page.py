"""The jury tablet page in a real browser: code login, ranking by drag, touch and
buttons, submit, retry and the lock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import TABLET, Admin, order_of, shot

pytestmark = pytest.mark.browser

RUNNING_ORDER = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]


def drag(page: Any, source: str, target: str, above: bool = True) -> None:
    """Drag `source` (a handle) to just above (or below) `target` with pointer events."""
    src = page.locator(source).bounding_box()
    dst = page.locator(target).bounding_box()
    assert src and dst
    x, y = src["x"] + src["width"] / 2, src["y"] + src["height"] / 2
    to_y = dst["y"] + 4 if above else dst["y"] + dst["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, (y + to_y) / 2, steps=8)
    page.mouse.move(x, to_y, steps=12)
    page.mouse.up()


def juror_login(page: Any, code: str) -> None:
    page.fill("#code", code)
    page.click("#login-btn")
    page.wait_for_selector("#screen-rank:not(.hidden)")


# ---------------------------------------------------------------- jury tablet page

def test_jury_rank_submit_reload_and_lock(live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    code = admin.juror(cid, "KZ", "Aigerim")
    page = open_page(f"{live_server.base_url}/jury", TABLET)
    shot(page, "jury-login")
    juror_login(page, code)

    expected = [c for c in RUNNING_ORDER if c != "KZ"]
    assert order_of(page) == expected, "the list starts in running order, own country left out"
    assert page.locator("#save-status").get_attribute("data-state") == "draft"

    # Buttons: AZ one down, UZ two up.
    page.click('#ranking .row[data-country="AZ"] .move.down')
    page.click('#ranking .row[data-country="UZ"] .move.up')
    page.click('#ranking .row[data-country="UZ"] .move.up')
    expected = ["AM", "AZ", "GE", "IN", "CN", "KG", "MN", "UZ", "TJ", "TM", "KR"]
    assert order_of(page) == expected

    # Drag: KR by its handle to the top, then GE below IN.
    drag(page, '#ranking .row[data-country="KR"] .handle', '#ranking .row[data-country="AM"]')
    expected = ["KR", *expected[:-1]]
    assert order_of(page) == expected
    drag(page, '#ranking .row[data-country="GE"] .handle', '#ranking .row[data-country="IN"]',
         above=False)
    expected = ["KR", "AM", "AZ", "IN", "GE", "CN", "KG", "MN", "UZ", "TJ", "TM"]
    assert order_of(page) == expected
    shot(page, "jury-ranking")

    # The draft survives a reload before anything was submitted (kept in localStorage).
    page.reload()
    page.wait_for_selector("#screen-rank:not(.hidden)")
    assert order_of(page) == expected

    page.click("#to-review")
    page.wait_for_selector("#screen-review:not(.hidden)")
    assert order_of(page, "#review-list li") == expected
    shot(page, "jury-review")
    page.click("#submit")
    page.wait_for_selector('#save-status[data-state="saved"]')
    page.wait_for_selector("#screen-done:not(.hidden)")
    shot(page, "jury-submitted")

    token = page.evaluate("JSON.parse(localStorage.getItem('silkvote.jury.session')).token")
    stored = httpx.get(f"{live_server.base_url}/api/v1/contests/{cid}/ballot",
                       headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert stored["ranking"] == expected

    page.reload()
    page.wait_for_selector('#save-status[data-state="saved"]')
    assert order_of(page, "#done-list li") == expected

    admin.post(f"/api/v1/contests/{cid}/jury/lock")
    page.wait_for_selector("#locked-banner:not(.hidden)", timeout=10_000)
    assert page.locator("#save-status").get_attribute("data-state") == "locked"
    assert page.locator("#edit-again").is_hidden()
    shot(page, "jury-locked")

    # A tablet opened after the lock shows the locked state straight away.
    page.reload()
    page.wait_for_selector("#locked-banner:not(.hidden)")


def test_jury_submit_offline_is_retried(live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    code = admin.juror(cid, "AZ", "Rashad")
    page = open_page(f"{live_server.base_url}/jury", TABLET)
    juror_login(page, code)
    page.click('#ranking .row[data-country="KR"] .move.up')
    expected = order_of(page)
    page.click("#to-review")

    page.context.set_offline(True)
    page.click("#submit")
    page.wait_for_selector('#save-status[data-state="retrying"]')
    assert "Not saved" in page.locator("#save-status").inner_text()
    shot(page, "jury-offline-retrying")

    page.context.set_offline(False)
    page.wait_for_selector('#save-status[data-state="saved"]', timeout=15_000)
    token = page.evaluate("JSON.parse(localStorage.getItem('silkvote.jury.session')).token")
    stored = httpx.get(f"{live_server.base_url}/api/v1/contests/{cid}/ballot",
                       headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert stored["ranking"] == expected


def test_jury_bad_or_used_code_is_explained(live_server: Any, admin: Admin,
                                            open_page: Any) -> None:
    page = open_page(f"{live_server.base_url}/jury", TABLET)
    page.fill("#code", "AAAA-BBBB-CCCC")
    page.click("#login-btn")
    page.wait_for_selector("#login-error:not(.hidden)")
    assert "not recognised" in page.locator("#login-error").inner_text()

    cid = live_server.new_contest()
    code = admin.juror(cid, "GE", "Nino")
    juror_login(open_page(f"{live_server.base_url}/jury", TABLET), code)
    other_tablet = open_page(f"{live_server.base_url}/jury", TABLET)
    other_tablet.fill("#code", code.lower().replace("-", ""))  # typed loosely
    other_tablet.click("#login-btn")
    other_tablet.wait_for_selector("#login-error:not(.hidden)")
    assert "already used on another device" in other_tablet.locator("#login-error").inner_text()


def test_jury_drag_works_with_touch(live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    code = admin.juror(cid, "UZ", "Dilnoza")
    page = open_page(f"{live_server.base_url}/jury", TABLET, has_touch=True)
    juror_login(page, code)
    before = order_of(page)
    src = page.locator('#ranking .row[data-country="TM"] .handle').bounding_box()
    dst = page.locator('#ranking .row[data-country="AM"]').bounding_box()
    assert src and dst
    x, y = src["x"] + src["width"] / 2, src["y"] + src["height"] / 2
    to_y = dst["y"] + 4
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, 21):
        cdp.send("Input.dispatchTouchEvent", {
            "type": "touchMove", "touchPoints": [{"x": x, "y": y + (to_y - y) * i / 20}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expected = [c for c in before if c != "TM"]
    expected.insert(expected.index("AM"), "TM")
    page.wait_for_function(
        "(want) => JSON.stringify([...document.querySelectorAll('#ranking .row')]"
        ".map(e => e.dataset.country)) === JSON.stringify(want)", arg=expected, timeout=15_000)
    assert page.evaluate("window.__jury.ranking") == expected
