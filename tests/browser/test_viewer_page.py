"""The viewer page in a real browser: voting, the overlay following it, languages,
error messages, offline retries and the live window."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import BROADCAST, DESK, PHONE, Admin, shot, voting_from

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

RUNNING_ORDER = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]


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


# ---------------------------------------------------------------- languages and errors

KK_CLOSED = "Дауыс беру қазір жабық. Жүргізуші ашқанша күтіңіз."
KK_OWN = "Өз еліңіздің әніне дауыс беруге болмайды."


def test_language_picker_switches_to_kazakh(live_server: Any, open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE, locale="ru-RU")
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.locator("#lang").input_value() == "ru", "defaults to the browser language"
    assert page.locator("#window-state").inner_text() == "Голосование закрыто"

    page.select_option("#lang", "kk")  # the switch loads /i18n/kk.json, then re-renders
    expect(page.locator("#window-state")).to_have_text("Дауыс беру жабық")
    assert page.evaluate("document.documentElement.lang") == "kk"
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
    expect(page.locator("#message-text")).to_have_text("投票目前已关闭，请等待主持人开放投票。")
    page.select_option("#lang", "kk")
    expect(page.locator("#message-text")).to_have_text(KK_CLOSED)

    page.reload()
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.locator("#lang").input_value() == "kk", "the choice is remembered"
    assert page.locator("#my-country").inner_text().strip() != ""
    shot(page, "vote-kazakh")


def test_viewer_own_country_and_cap_messages(live_server: Any, admin: Admin,
                                             open_page: Any) -> None:
    cid = live_server.new_contest(vote_cap=2)
    admin.window(cid, "open")
    # ?lang=en: a viewer voting from Uzbekistan would otherwise read Uzbek.
    page = open_page(f"{live_server.base_url}/vote/{cid}?lang=en", PHONE)
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


# ---------------------------------------------------------------- more viewer behaviour

ERROR_CODES = ["window_closed", "own_country", "unknown_entry", "vote_cap_reached",
               "rate_limited", "unauthorized", "unavailable", "invalid_body", "network",
               "forbidden", "not_found"]


def test_every_error_code_is_explained_in_every_language(live_server: Any,
                                                         open_page: Any) -> None:
    page = open_page(f"{live_server.base_url}/", DESK)
    texts = page.evaluate("""async (codes) => {
        const m = await import('/static/i18n.js');
        const out = {};
        for (const { code: lang } of m.LANGUAGES) {
            const tr = await m.loadCatalog(lang);
            out[lang] = Object.fromEntries(codes.map((c) => [c, tr.texts[`error.${c}`] || null]));
        }
        return out;
    }""", ERROR_CODES)
    assert len(texts) == 14
    for lang, table in texts.items():
        missing = [code for code, text in table.items() if not text]
        assert not missing, f"{lang} lacks {missing}"
        if lang != "en":
            same = [code for code in ERROR_CODES if table[code] == texts["en"][code]]
            assert not same, f"{lang} repeats the English text for {same}"


def test_offline_vote_is_explained_and_retried_with_the_same_key(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid, page = voting_from(live_server, admin, open_page, "WW")

    page.context.set_offline(True)
    page.click("#vote-AM")
    page.wait_for_selector('#message[data-code="network"]', timeout=10_000)
    assert page.locator("#message-text").inner_text() == \
        "No connection. Check your internet and try again."
    assert page.locator("#message-retry").is_visible()
    shot(page, "vote-offline")

    page.context.set_offline(False)
    keys: list[str] = []
    seen: list[str] = []  # what became of each vote request, for a failure's message
    is_vote = lambda r: r.url.endswith("/votes") and r.method == "POST"  # noqa: E731
    page.on("request", lambda r: keys.append(r.post_data_json["key"]) if is_vote(r) else None)
    page.on("requestfinished", lambda r: seen.append(f"{r.response().status}")
            if is_vote(r) else None)
    page.on("requestfailed", lambda r: seen.append(f"failed: {r.failure}")
            if is_vote(r) else None)

    def wait_for_remaining(n: int) -> None:
        try:
            page.wait_for_selector(f'#remaining-text[data-remaining="{n}"]')
        except Exception as exc:
            raise AssertionError(
                f"remaining never showed {n}: vote requests {seen}, message "
                f"{page.locator('#message').get_attribute('data-code')!r} "
                f"{page.locator('#message-text').inner_text()!r}, console {page.log.console}"
            ) from exc

    page.click("#message-retry")
    wait_for_remaining(19)
    page.click("#vote-AM")
    wait_for_remaining(18)
    assert len(keys) == 2 and keys[0] != keys[1], "a new tap gets a new key"
    counts = admin.get(f"/api/v1/contests/{cid}/stats")
    assert counts["by_country"]["WW"] == 2


def test_a_tap_before_the_phone_had_its_token_is_the_one_retried(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    """The page shows the full allowance before its token arrives, so a viewer can tap
    while the token request still fails: the retry offered must send that vote, not
    only fetch the token."""
    cid = live_server.new_contest()
    admin.window(cid, "open")
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE)
    page.wait_for_selector('#window-state[data-state="open"]')
    page.context.set_offline(True)
    page.click('#country-list button[data-country="KG"]')
    page.wait_for_selector('#remaining-text[data-remaining="20"]')
    page.click("#vote-TJ")
    page.wait_for_selector('#message[data-code="network"]', timeout=10_000)
    page.wait_for_selector("#vote-TJ:not([disabled])")  # the tap's attempts are over

    page.context.set_offline(False)
    page.click("#message-retry")
    page.wait_for_selector('#remaining-text[data-remaining="19"]')
    assert admin.get(f"/api/v1/contests/{cid}/stats")["by_country"]["KG"] == 1


def test_viewer_follows_the_window_live(live_server: Any, admin: Admin,
                                        open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE, locale="zh-CN")
    page.click('#country-list button[data-country="CN"]')
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.locator("#lang").input_value() == "zh"
    assert page.locator("#vote-UZ").is_disabled()
    admin.window(cid, "open")
    page.wait_for_selector('#window-state[data-state="open"]')
    assert page.locator("#window-state").inner_text() == "投票进行中"
    page.wait_for_selector("#vote-UZ:not([disabled])")
    shot(page, "vote-chinese-open")
    admin.window(cid, "closed")
    page.wait_for_selector('#window-state[data-state="closed"]')
    assert page.locator("#vote-UZ").is_disabled()


# The page hides good news after 3.5 s. This drops exactly that one timer, so in the
# test below only the window's close can take the "vote counted" line away.
KEEP_GOOD_NEWS = """
const later = window.setTimeout;
window.setTimeout = (fn, ms, ...args) => (ms === 3500 ? 0 : later(fn, ms, ...args));
"""


def test_a_vote_counted_line_goes_the_moment_the_window_closes(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    """A viewer must never read "vote counted" under "voting closed"."""
    cid = live_server.new_contest()
    admin.window(cid, "open")
    page = open_page(f"{live_server.base_url}/vote/{cid}", PHONE)
    page.context.add_init_script(KEEP_GOOD_NEWS)
    page.reload()
    page.click('#country-list button[data-country="KZ"]')
    page.wait_for_selector('#window-state[data-state="open"]')
    page.wait_for_selector('#remaining-text[data-remaining="20"]')
    page.click("#vote-UZ")
    page.wait_for_selector('#remaining-text[data-remaining="19"]')
    page.wait_for_selector('#message[data-kind="ok"]:not(.hidden)')

    admin.window(cid, "closed")
    page.wait_for_selector('#window-state[data-state="closed"]')
    expect(page.locator("#message")).to_be_hidden()


def test_index_links_every_contest(live_server: Any, open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/", DESK)
    item = page.locator(f'#contests li[data-contest="{cid}"]')
    item.wait_for()
    hrefs = item.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    for expected in (f"/vote/{cid}", f"/overlay/{cid}", f"/console/{cid}"):
        assert expected in hrefs
    shot(page, "index")
