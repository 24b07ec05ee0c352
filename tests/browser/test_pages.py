"""The four pages in a real browser (Debian's Chromium through Playwright).

Each test builds its own contest on the live server, drives the pages as a juror, a
viewer or a producer would, and saves screenshots to test-artifacts/screenshots/.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BROADCAST, DESK, PHONE, TABLET, Admin, shot

pytestmark = pytest.mark.browser

RUNNING_ORDER = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]


def order_of(page: Any, selector: str = "#ranking .row") -> list[str]:
    return list(page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.country)"))


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


# ---------------------------------------------------------------- viewer page → overlay

def test_viewer_vote_moves_overlay_within_2s(live_server: Any, admin: Admin,
                                             open_page: Any) -> None:
    cid = live_server.new_contest()
    admin.window(cid, "open")
    overlay = open_page(f"{live_server.base_url}/overlay/{cid}?title=Silk%20Way%20Star", BROADCAST)
    overlay.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    assert overlay.locator('#board .ov-row[data-country="UZ"]').get_attribute("data-total") == "0"

    viewer = open_page(f"{live_server.base_url}/vote/{cid}", PHONE)
    viewer.click('#country-list button[data-country="KZ"]')
    viewer.wait_for_selector('#remaining-text[data-remaining="20"]')
    viewer.wait_for_selector('#window-state[data-state="open"]')
    assert viewer.locator("#vote-KZ").is_disabled(), "own country cannot be voted for"
    shot(viewer, "vote-before")

    with viewer.expect_response(lambda r: r.url.endswith("/votes") and r.request.method == "POST"
                                ) as response_info:
        started = time.monotonic()
        viewer.click("#vote-UZ")
    assert response_info.value.status == 201
    left = 2.0 - (time.monotonic() - started)
    assert left > 0, "the vote itself took longer than 2 s"
    overlay.wait_for_function(
        "() => document.querySelector('#board .ov-row[data-country=\"UZ\"]').dataset.place === '1'"
        " && document.querySelector('#board .ov-row[data-country=\"UZ\"]').dataset.total !== '0'",
        timeout=left * 1000,
    )
    moved_after = time.monotonic() - started
    assert moved_after <= 2.0
    viewer.wait_for_selector('#remaining-text[data-remaining="19"]')
    assert viewer.locator("#message").get_attribute("data-kind") == "ok"
    shot(viewer, "vote-after")
    overlay.wait_for_timeout(1000)  # let the re-ordering animation finish for the picture
    shot(overlay, "overlay-voting")


# ---------------------------------------------------------------- reveal on the overlay

def cast_votes(admin: Admin, cid: str, plan: dict[str, dict[str, int]]) -> None:
    for country, entries in plan.items():
        for entry, n in entries.items():
            for i in range(n):
                token = admin.voter_token(cid, f"+7700{country}{entry}{i:04d}", country)
                admin.vote(cid, token, entry, str(uuid.uuid4()))


def submit_ballots(live_server: Any, admin: Admin, cid: str, country: str, count: int) -> None:
    rankable = [c for c in RUNNING_ORDER if c != country]
    for j in range(count):
        code = admin.juror(cid, country, f"{country} juror {j}")
        session = httpx.post(f"{live_server.base_url}/api/v1/jury/session", json={"code": code},
                             timeout=10).json()
        ranking = rankable[j:] + rankable[:j]
        response = httpx.put(f"{live_server.base_url}/api/v1/contests/{cid}/ballot",
                             json={"ranking": ranking}, timeout=10,
                             headers={"Authorization": f"Bearer {session['token']}"})
        assert response.status_code == 200, response.text


def console_sign_in(page: Any, token: str) -> None:
    page.wait_for_selector("#auth:not(.hidden)")
    page.fill("#admin-token", token)
    page.click("#auth-btn")
    page.wait_for_selector("#console:not(.hidden)")


def test_reveal_steps_appear_on_overlay_in_order(live_server: Any, admin: Admin,
                                                 open_page: Any) -> None:
    cid = live_server.new_contest()
    for country in ("AZ", "KZ", "UZ"):
        submit_ballots(live_server, admin, cid, country, 3)
    admin.window(cid, "open")
    cast_votes(admin, cid, {"AZ": {"UZ": 3, "KZ": 1}, "KZ": {"UZ": 2, "CN": 1},
                            "WW": {"KR": 2, "IN": 1}})
    admin.window(cid, "closed")
    admin.post(f"/api/v1/contests/{cid}/jury/lock")

    overlay = open_page(f"{live_server.base_url}/overlay/{cid}?title=Silk%20Way%20Star", BROADCAST)
    overlay.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    console = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    console_sign_in(console, live_server.admin_token)

    full = admin.get(f"/api/v1/contests/{cid}/results?view=full")
    steps = full["reveal"]
    assert steps, "the contest has something to reveal"
    assert any(s["body"] == "jury" for s in steps) and any(s["body"] == "televote" for s in steps)
    shot_jury = shot_tele = False
    for k, step in enumerate(steps, start=1):
        console.wait_for_selector("#reveal-next:not([disabled])")
        console.click("#reveal-next")
        if step["body"] == "televote":
            top = step.get("to") or next(iter(step["points"]))
        else:
            top = max(step["points"], key=lambda c: _value(step["points"][c]))
        overlay.wait_for_selector(f'#board[data-revealed="{k}"]', timeout=5000)
        if k < len(steps):
            overlay.wait_for_selector(f'#moment[data-step="{k}"]', timeout=5000)
            assert overlay.locator("#moment").get_attribute("data-to") == top
        # The last step ends the reveal: the banner then names the winner (checked below).
        if k < len(steps):
            highlight = "tele" if step["body"] == "televote" else "twelve"
            overlay.wait_for_selector(f'#board .ov-row.{highlight}[data-country="{top}"]')
        console.wait_for_selector(f'#reveal-steps li[data-step="{k}"]')
        if step["body"] == "jury" and not shot_jury:
            overlay.wait_for_timeout(1000)
            shot(overlay, "overlay-reveal-12-points")
            shot_jury = True
        if step["body"] == "televote" and not shot_tele:
            overlay.wait_for_timeout(1000)
            shot(overlay, "overlay-reveal-televote")
            shot_tele = True

    overlay.wait_for_selector('#board[data-phase="final"]')
    overlay.wait_for_selector('#moment[data-step="final"]')
    winner = full["scoreboard"][0]
    assert overlay.locator("#moment").get_attribute("data-to") == winner["country"]
    for line in full["scoreboard"]:
        row = overlay.locator(f'#board .ov-row[data-country="{line["country"]}"]')
        assert row.get_attribute("data-place") == str(line["place"])
        assert row.get_attribute("data-total") == str(line["total"])
    seen = [h["revealed"] for h in overlay.evaluate("window.__overlay.history")]
    assert seen == sorted(seen), f"reveal went backwards on the overlay: {seen}"
    assert set(range(1, len(steps) + 1)) <= set(seen), "every step was shown on the overlay"
    console.wait_for_selector("#reveal-next[disabled]")
    overlay.wait_for_timeout(1000)
    shot(overlay, "overlay-final")
    shot(console, "console-reveal-complete")
    transparent = open_page(f"{live_server.base_url}/overlay/{cid}?bg=transparent", BROADCAST)
    transparent.wait_for_selector('#board[data-phase="final"]')
    assert transparent.evaluate("getComputedStyle(document.body).backgroundColor") in (
        "rgba(0, 0, 0, 0)", "transparent")
    transparent.wait_for_timeout(1000)
    shot(transparent, "overlay-transparent")


def _value(points: Any) -> float:
    text = str(points)
    if "/" in text:
        num, den = text.split("/")
        return int(num) / int(den)
    return float(text)


# ---------------------------------------------------------------- producer console

def test_console_opens_window_and_shows_counts(live_server: Any, admin: Admin,
                                               open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    page.fill("#admin-token", "not-the-token")
    page.click("#auth-btn")
    page.wait_for_selector("#auth-error:not(.hidden)")
    console_sign_in(page, live_server.admin_token)
    page.wait_for_selector('#window-state[data-state="closed"]')
    page.wait_for_function("() => document.querySelectorAll('#board tr').length === 12")

    page.click("#open-window")
    page.wait_for_selector('#window-state[data-state="open"]')
    assert admin.get(f"/api/v1/contests/{cid}")["window"] == "open"

    cast_votes(admin, cid, {"KZ": {"UZ": 2, "CN": 1}, "AZ": {"KZ": 2}})
    page.wait_for_selector('#country-counts tr[data-country="KZ"] td.n:text-is("3")')
    page.wait_for_selector('#country-counts tr[data-country="AZ"] td.n:text-is("2")')
    page.wait_for_selector('#accepted-total:text-is("5")')
    page.wait_for_function("() => window.__console.rates.some(r => r.rate > 0)")
    # The full leaderboard (admin websocket) shows the audience counts.
    page.wait_for_selector('#board tr[data-country="UZ"] td:last-child:text-is("2")')

    page.click("#verify")
    page.wait_for_selector('#verify-result[data-ok="true"]', timeout=10_000)

    page.click("#close-window")
    page.wait_for_selector('#window-state[data-state="closed"]')
    page.click("#lock-jury")
    page.click("#lock-jury")  # two taps: the first only arms the button
    page.wait_for_selector('#jury-state[data-state="locked"]')
    assert admin.get(f"/api/v1/contests/{cid}")["jury_locked"] is True
    shot(page, "console")


# ---------------------------------------------------------------- languages and errors

KK_CLOSED = "Дауыс беру қазір жабық. Жүргізуші ашқанша күтіңіз."
KK_OWN = "Өз еліңіздің әніне дауыс беруге болмайды."


def test_language_picker_switches_to_kazakh(live_server: Any, open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE, locale="ru-RU")
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.locator("#lang").input_value() == "ru", "defaults to the browser language"
    assert page.locator("#window-state").inner_text() == "Голосование закрыто"

    page.select_option("#lang", "kk")
    assert page.evaluate("document.documentElement.lang") == "kk"
    assert page.locator("#window-state").inner_text() == "Дауыс беру жабық"
    page.click('#country-list button[data-country="KZ"]')
    page.wait_for_selector('#remaining-text[data-remaining="20"]')
    assert page.locator("#remaining-text").inner_text() == "Қалған дауыстар: 20 / 20"
    assert page.locator("#vote-UZ").inner_text().startswith("Дауыс беру")

    # Error codes from the server are explained in the chosen language. The buttons are
    # disabled while voting is closed, so vote as a stale page would (the page's hook).
    page.evaluate("window.__voteActions.castVote('UZ')")
    page.wait_for_selector('#message[data-code="window_closed"]')
    assert page.locator("#message-text").inner_text() == KK_CLOSED
    shot(page, "vote-kazakh-error")

    page.select_option("#lang", "zh")
    assert page.locator("#message-text").inner_text() == "投票目前已关闭，请等待主持人开放投票。"
    page.select_option("#lang", "kk")

    page.reload()
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.locator("#lang").input_value() == "kk", "the choice is remembered"
    assert page.locator("#my-country").inner_text().strip() != ""
    shot(page, "vote-kazakh")


def test_viewer_own_country_and_cap_messages(live_server: Any, admin: Admin,
                                             open_page: Any) -> None:
    cid = live_server.new_contest(vote_cap=2)
    admin.window(cid, "open")
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE)
    page.click('#country-list button[data-country="UZ"]')
    page.wait_for_selector('#remaining-text[data-remaining="2"]')
    page.wait_for_selector('#window-state[data-state="open"]')

    page.evaluate("window.__voteActions.castVote('UZ')")
    page.wait_for_selector('#message[data-code="own_country"]')
    assert page.locator("#message-text").inner_text() == \
        "You can't vote for your own country's song."

    for _ in range(2):
        page.wait_for_selector("#vote-KZ:not([disabled])")
        page.click("#vote-KZ")
        page.wait_for_selector('#message[data-kind="ok"]')
        page.evaluate("document.querySelector('#message').dataset.kind = ''")
    page.wait_for_selector('#remaining-text[data-remaining="0"]')
    assert page.locator("#vote-KZ").is_disabled()
    page.evaluate("window.__voteActions.castVote('KZ')")
    page.wait_for_selector('#message[data-code="vote_cap_reached"]')
    assert page.locator("#message-text").inner_text() == "You have used all your votes."
    assert page.locator('#entries li[data-country="KZ"] .mine').inner_text() == "×2"
    shot(page, "vote-cap-reached")


# ---------------------------------------------------------------- websocket client

FAKE_SOCKET = """
window.__fakes = [];
class FakeSocket {
  constructor(url) { this.url = url; this.readyState = 1; window.__fakes.push(this); }
  send() {}
  close(code) { this.readyState = 3; this.closedWith = code || 1000; }
}
window.WebSocket = FakeSocket;
"""

RESULTS = {
    "contest": "fake", "window": "open", "jury_locked": False, "phase": "voting",
    "revealed": 0, "reveal_total": 0, "sets": [], "reveal": [], "last_step": None,
    "votes": {}, "as_of": "2026-01-01T00:00:00Z",
}


def scoreboard(order: list[str]) -> list[dict[str, Any]]:
    return [{"country": c, "place": i, "total": 30 - i, "jury": 0, "televote": 30 - i,
             "running_order": i} for i, c in enumerate(order, start=1)]


def deliver(page: Any, index: int, kind: str, seq: int, order: list[str]) -> None:
    message = {"type": kind, "seq": seq, "results": {**RESULTS, "scoreboard": scoreboard(order)}}
    page.evaluate("([i, m]) => window.__fakes[i].onmessage({data: JSON.stringify(m)})",
                  [index, message])


def test_overlay_resyncs_on_seq_gap_and_reconnects(live_server: Any, open_page: Any) -> None:
    context_page = open_page("about:blank", BROADCAST)
    context_page.add_init_script(FAKE_SOCKET)
    context_page.goto(f"{live_server.base_url}/overlay/fake-contest")
    context_page.wait_for_function("() => window.__fakes.length === 1")
    url = context_page.evaluate("window.__fakes[0].url")
    assert url.endswith("/ws/contests/fake-contest/leaderboard")

    deliver(context_page, 0, "snapshot", 5, ["UZ", "KZ", "AZ"])
    context_page.wait_for_selector('#board[data-seq="5"]')
    assert order_of(context_page, "#board .ov-row") == ["UZ", "KZ", "AZ"]
    deliver(context_page, 0, "update", 6, ["KZ", "UZ", "AZ"])
    context_page.wait_for_selector('#board[data-seq="6"]')
    assert order_of(context_page, "#board .ov-row") == ["KZ", "UZ", "AZ"]
    # Re-ordering is animated: the moved rows glide with a CSS transform transition (FLIP).
    moving = context_page.evaluate(
        "document.getAnimations().filter(a => a.transitionProperty === 'transform')"
        ".map(a => a.effect.target.dataset.country)")
    assert {"KZ", "UZ"} <= set(moving)

    # seq 7 went missing: the client drops the connection and subscribes again.
    deliver(context_page, 0, "update", 8, ["AZ", "KZ", "UZ"])
    context_page.wait_for_function("() => window.__fakes.length === 2")
    assert context_page.evaluate("window.__fakes[0].readyState") == 3
    assert context_page.get_attribute("#board", "data-seq") == "6"
    deliver(context_page, 1, "snapshot", 9, ["AZ", "KZ", "UZ"])
    context_page.wait_for_selector('#board[data-seq="9"]')
    assert order_of(context_page, "#board .ov-row") == ["AZ", "KZ", "UZ"]

    # A dropped connection is re-opened (with backoff).
    context_page.evaluate("window.__fakes[1].onclose({code: 1006})")
    context_page.wait_for_function("() => window.__fakes.length === 3", timeout=3000)


# ---------------------------------------------------------------- more viewer behaviour

ERROR_CODES = ["window_closed", "own_country", "unknown_entry", "vote_cap_reached",
               "rate_limited", "unauthorized", "unavailable", "invalid_body", "network",
               "forbidden", "not_found"]


def test_every_error_code_is_explained_in_four_languages(live_server: Any,
                                                         open_page: Any) -> None:
    page = open_page(f"{live_server.base_url}/", DESK)
    texts = page.evaluate("""async (codes) => {
        const m = await import('/static/i18n.js');
        const out = {};
        for (const lang of ['en', 'ru', 'zh', 'kk']) {
            out[lang] = Object.fromEntries(codes.map((c) => [c, m.TEXTS[lang].errors[c] || null]));
        }
        return out;
    }""", ERROR_CODES)
    for lang, table in texts.items():
        missing = [code for code, text in table.items() if not text]
        assert not missing, f"{lang} lacks {missing}"
        if lang != "en":
            same = [code for code in ERROR_CODES if table[code] == texts["en"][code]]
            assert not same, f"{lang} repeats the English text for {same}"


def test_offline_vote_is_explained_and_retried_with_the_same_key(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    admin.window(cid, "open")
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE)
    page.click('#country-list button[data-country="WW"]')
    page.wait_for_selector('#remaining-text[data-remaining="20"]')
    page.wait_for_selector('#window-state[data-state="open"]')

    page.context.set_offline(True)
    page.click("#vote-AM")
    page.wait_for_selector('#message[data-code="network"]', timeout=10_000)
    assert page.locator("#message-text").inner_text() == \
        "No connection. Check your internet and try again."
    assert page.locator("#message-retry").is_visible()
    shot(page, "vote-offline")

    page.context.set_offline(False)
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.post_data_json["key"])
            if r.url.endswith("/votes") and r.method == "POST" else None)
    page.click("#message-retry")
    page.wait_for_selector('#remaining-text[data-remaining="19"]')
    page.click("#vote-AM")
    page.wait_for_selector('#remaining-text[data-remaining="18"]')
    assert len(keys) == 2 and keys[0] != keys[1], "a new tap gets a new key"
    counts = admin.get(f"/api/v1/contests/{cid}/stats")
    assert counts["by_country"]["WW"] == 2


def test_viewer_follows_the_window_live(live_server: Any, admin: Admin,
                                        open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE, locale="zh-CN")
    page.click('#country-list button[data-country="CN"]')
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.locator("#lang").input_value() == "zh"
    assert page.locator("#vote-UZ").is_disabled()
    admin.window(cid, "open")
    page.wait_for_selector('#window-state[data-state="open"]', timeout=3000)
    assert page.locator("#window-state").inner_text() == "投票进行中"
    page.wait_for_selector("#vote-UZ:not([disabled])")
    shot(page, "vote-chinese-open")
    admin.window(cid, "closed")
    page.wait_for_selector('#window-state[data-state="closed"]', timeout=3000)
    assert page.locator("#vote-UZ").is_disabled()


def test_index_links_every_contest(live_server: Any, open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/", DESK)
    item = page.locator(f'#contests li[data-contest="{cid}"]')
    item.wait_for()
    hrefs = item.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    for expected in (f"/vote/{cid}", f"/overlay/{cid}", f"/console/{cid}"):
        assert expected in hrefs
    shot(page, "index")


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
        ".map(e => e.dataset.country)) === JSON.stringify(want)", arg=expected, timeout=3000)
    assert page.evaluate("window.__jury.ranking") == expected
