"""Every page in every language, in Chromium: no string missing, nothing cut or off the
screen at 390×844, 1024×768 and 1920×1080, and the bundled fonts serve every script
(Chinese included, on a machine that has no CJK font of its own).

One browser and one page per page kind; a language switch is the page's own switcher
(the overlay, which has none, is reloaded with ?lang=), then one script measures every
visible element at once: an element that clips (overflow not visible) and whose content
is wider or taller than it, text that runs out of its own box, text left or right of the
screen, and on the fixed-frame pages (jury, overlay) below it. Raw keys ("vote.vote"),
unfilled placeholders ("{country}") and keys no file had are "missing".
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from service.web.translations import LANGUAGES, page_languages
from tests.browser.conftest import Admin, shot
from tests.browser.layout_sweep import VIEWPORTS, Findings, every_size

pytestmark = pytest.mark.browser

TITLE = "Silk Way Star 2026 — Grand Final"
LOWER_THIRD_PAGES = 3  # the step on air, the whole set, the leader (CG NEXT cycles them)
RUNNING_ORDER = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]

def reveal_contest(live_server: Any, admin: Admin, *, final: bool) -> str:
    """A contest with three juries and some televotes, revealed up to its first jury step
    (the longest banner: "12 points go to … from …") or to the end."""
    cid = live_server.new_contest(name=TITLE)
    for country in ("AZ", "KZ", "UZ"):
        code = admin.juror(cid, country, f"{country} juror")
        session = httpx.post(f"{live_server.base_url}/api/v1/jury/session", json={"code": code},
                             timeout=10).json()
        rankable = [c for c in RUNNING_ORDER if c != country]
        response = httpx.put(f"{live_server.base_url}/api/v1/contests/{cid}/ballot",
                             json={"ranking": rankable}, timeout=10,
                             headers={"Authorization": f"Bearer {session['token']}"})
        assert response.status_code == 200, response.text
    admin.window(cid, "open")
    for i, (country, entry) in enumerate([("AZ", "KR"), ("KZ", "MN"), ("WW", "GE"), ("MN", "AM")]):
        admin.vote(cid, admin.voter_token(cid, f"+99450{i:07d}", country), entry, str(uuid.uuid4()))
    admin.window(cid, "closed")
    admin.post(f"/api/v1/contests/{cid}/jury/lock")
    shown = admin.post(f"/api/v1/contests/{cid}/reveal/next")
    while shown["revealed"] < shown["total"] and (final or shown["step"]["body"] != "jury"):
        shown = admin.post(f"/api/v1/contests/{cid}/reveal/next")
    return cid


@pytest.fixture(scope="module")
def contests(live_server: Any) -> Iterator[dict[str, str]]:
    admin = Admin(live_server.base_url, live_server.admin_token)
    try:
        voting = live_server.new_contest(name=TITLE)
        admin.window(voting, "open")
        yield {
            "voting": voting,
            "reveal": reveal_contest(live_server, admin, final=False),
            "final": reveal_contest(live_server, admin, final=True),
            "juror": admin.juror(voting, "KZ", "Layout juror"),
        }
    finally:
        admin.close()


@pytest.fixture(scope="module")
def findings() -> Findings:
    return Findings()


def test_index_page_in_every_language_and_size(live_server: Any, contests: dict[str, str],
                                               open_page: Any, findings: Findings) -> None:
    page = open_page(f"{live_server.base_url}/")
    page.wait_for_selector(f'#contests li[data-contest="{contests["voting"]}"]')
    every_size(page, findings, "index")


def test_vote_page_in_every_language_and_size(live_server: Any, contests: dict[str, str],
                                              open_page: Any, findings: Findings) -> None:
    page = open_page(f"{live_server.base_url}/vote/{contests['voting']}")
    page.wait_for_selector('#window-state[data-state="open"]')
    every_size(page, findings, "vote-picker")
    page.click('#country-list button[data-country="KZ"]')
    page.wait_for_selector('#remaining-text[data-remaining="20"]')
    page.click("#vote-MN")
    page.wait_for_selector('#message[data-kind="ok"]')
    # Keep the "vote counted" message up (it hides itself after a few seconds).
    page.evaluate("""() => {
        const box = document.querySelector('#message');
        new MutationObserver(() => {
            if (box.classList.contains('hidden')) box.classList.remove('hidden');
        }).observe(box, { attributes: true });
    }""")
    every_size(page, findings, "vote")


def test_jury_page_in_every_language_and_size(live_server: Any, contests: dict[str, str],
                                              open_page: Any, findings: Findings) -> None:
    page = open_page(f"{live_server.base_url}/jury")
    page.wait_for_selector("#screen-login:not(.hidden)")
    every_size(page, findings, "jury-login")
    page.fill("#code", contests["juror"])
    page.click("#login-btn")
    page.wait_for_selector("#screen-rank:not(.hidden)")
    every_size(page, findings, "jury-rank")
    page.click("#to-review")
    every_size(page, findings, "jury-review")
    page.click("#submit")
    page.wait_for_selector("#screen-done:not(.hidden)")
    every_size(page, findings, "jury-done")


@pytest.mark.parametrize("state", ["voting", "reveal", "final"])
def test_overlay_in_every_language_and_size(live_server: Any, contests: dict[str, str],
                                            open_page: Any, findings: Findings,
                                            state: str) -> None:
    page = open_page(f"{live_server.base_url}/overlay/{contests[state]}?lang=ru", VIEWPORTS[-1])
    page.set_default_timeout(60_000)  # a loaded CI machine: the snapshot may take a while
    page.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    assert page.evaluate("document.documentElement.lang") == "ru", "?lang= sets the language"
    if state != "voting":
        page.wait_for_selector("#moment:not(.hidden)")
    # The overlay is a fixed 1920×1080 stage scaled to the window: its layout is the same
    # at every size, so every language is measured once, on the full stage; the smaller
    # windows check that the scaled stage (and all its text) stays on the screen.
    findings.sweep(page, f"overlay-{state}", how="overlay")
    for viewport in VIEWPORTS[:-1]:
        page.set_viewport_size(viewport)
        # the stage is refitted by the page's resize handler, which runs after the resize
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function("""() => {
                const r = document.querySelector('#stage').getBoundingClientRect();
                return r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
            }""", timeout=10_000)
        stage = page.evaluate("""() => {
            const r = document.querySelector('#stage').getBoundingClientRect();
            return [r.left, r.top, r.right, r.bottom, innerWidth, innerHeight];
        }""")
        left, top, right, bottom, width, height = stage
        assert left >= -0.5 and top >= -0.5 and right <= width + 0.5 and bottom <= height + 0.5, \
            f"the overlay's stage leaves a {width}×{height} window: {stage}"
        findings.sweep(page, f"overlay-{state}", how="overlay", langs=["ru"])


def test_presenter_in_every_language_and_size(live_server: Any, contests: dict[str, str],
                                             open_page: Any, findings: Findings) -> None:
    """The sign-in, a jury step on air (head, line, "also") with the next one, and the
    last televote step with the winner's line next."""
    langs = list(page_languages("presenter"))
    page = open_page(f"{live_server.base_url}/presenter/{contests['reveal']}")
    page.wait_for_selector("#p-auth:not(.hidden)")
    every_size(page, findings, "presenter-sign-in", langs=langs)
    page.fill("#p-token", live_server.admin_token)
    page.click("#p-auth-btn")
    page.wait_for_selector("#p-now .p-line-text")
    every_size(page, findings, "presenter-reveal", langs=langs)
    page.goto(f"{live_server.base_url}/presenter/{contests['final']}")  # the tab keeps the token
    page.wait_for_selector('#p-next[data-step="final"] .p-line-text')
    every_size(page, findings, "presenter-final", langs=langs)


def test_console_in_every_language_and_size(live_server: Any, contests: dict[str, str],
                                           open_page: Any, findings: Findings) -> None:
    """The sign-in and the whole desk of a contest in its reveal (juries, steps, board)."""
    langs = list(page_languages("console"))
    page = open_page(f"{live_server.base_url}/console/{contests['reveal']}")
    page.wait_for_selector("#auth:not(.hidden)")
    every_size(page, findings, "console-sign-in", langs=langs)
    page.fill("#admin-token", live_server.admin_token)
    page.click("#auth-btn")
    page.wait_for_selector("#reveal-steps li")
    page.wait_for_selector("#board tr")
    page.wait_for_selector("#jury-progress tr")
    every_size(page, findings, "console", langs=langs)


def test_lower_third_in_every_language_and_size(live_server: Any, contests: dict[str, str],
                                               open_page: Any, findings: Findings) -> None:
    """Each of its three CasparCG pages (the step, the whole set, the leader) in every
    language it offers, on the full 1920×1080 stage; its language is fixed at load
    (?lang=), so each language is a load. The smaller windows check the scaled stage."""
    langs = list(page_languages("presenter"))  # the lower third reads the presenter's texts
    page = open_page(f"{live_server.base_url}/lower-third/{contests['reveal']}?autoplay=1",
                     VIEWPORTS[-1])
    for lang in langs:
        page.goto(f"{live_server.base_url}/lower-third/{contests['reveal']}"
                  f"?autoplay=1&lang={lang}")
        page.wait_for_function("() => document.querySelector('#lt-line').textContent !== ''")
        for shown in range(LOWER_THIRD_PAGES):
            page.wait_for_function("(n) => document.querySelector('#lt-bar').dataset.page "
                                   "=== String(n)", arg=shown)
            findings.sweep(page, f"lower-third-{shown}", how="loaded", langs=[lang])
            page.evaluate("window.next()")  # CG NEXT: the template's next page
    for viewport in VIEWPORTS[:-1]:
        page.set_viewport_size(viewport)
        findings.sweep(page, "lower-third-0", how="loaded", langs=[langs[-1]])


def test_no_page_has_a_missing_string_or_an_overflow(findings: Findings) -> None:
    """The verdict of the tests above (each page × its languages × 3 sizes)."""
    pages, overlays = 7, 3  # index, vote ×2, jury ×4; the overlay in three phases
    presenter, console = 3, 2  # sign-in, a jury step, the final; sign-in, the desk
    expected = len(LANGUAGES) * len(VIEWPORTS) * pages + overlays * (len(LANGUAGES) + 2) \
        + len(page_languages("presenter")) * len(VIEWPORTS) * presenter \
        + len(page_languages("console")) * len(VIEWPORTS) * console \
        + len(page_languages("presenter")) * LOWER_THIRD_PAGES + len(VIEWPORTS) - 1
    findings.report()
    assert findings.checked == expected, \
        f"{findings.checked} of {expected} renders were checked: run the whole module"
    findings.assert_none()


# ---------------------------------------------------------------- fonts

def test_the_bundled_fonts_are_served_with_their_licence(live_server: Any) -> None:
    css = httpx.get(f"{live_server.base_url}/static/fonts/fonts.css", timeout=10)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    urls = re.findall(r"url\((/static/fonts/files/[^)]+\.woff2)\)", css.text)
    families = set(re.findall(r'font-family: "([^"]+)"', css.text))
    assert families == {"SilkVote Sans", "SilkVote SC", "SilkVote KR"}
    assert len(urls) > 200, "CJK and Hangul come as unicode-range slices"
    with httpx.Client(base_url=live_server.base_url, timeout=10) as client:
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.headers["content-type"] == "font/woff2", url
            assert response.content[:4] == b"wOF2", url
    licence = httpx.get(f"{live_server.base_url}/static/fonts/LICENSE.txt", timeout=10)
    assert "SIL Open Font License" in licence.text


FONT_PROBE = r"""async (family) => {
  await document.fonts.ready;
  await document.fonts.load(`48px "${family}"`, "投票");
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  const g = canvas.getContext("2d");
  const draw = (font, ch) => {
    g.clearRect(0, 0, 64, 64);
    g.font = font;
    g.fillText(ch, 4, 52);
    return g.getImageData(0, 0, 64, 64).data.join(",");
  };
  return {
    loaded: [...document.fonts].filter((f) => f.family.replace(/"/g, "") === family
      && f.status === "loaded").length,
    fetched: performance.getEntriesByType("resource")
      .filter((e) => e.name.includes("/static/fonts/files/noto-sans-sc-")).length,
    bundledGlyphsDiffer: draw(`48px "${family}"`, "投") !== draw(`48px "${family}"`, "票"),
    systemGlyphsDiffer: draw("48px NoSuchFont, sans-serif", "投")
      !== draw("48px NoSuchFont, sans-serif", "票"),
    pageFont: getComputedStyle(document.querySelector("#window-state")).fontFamily,
  };
}"""


def test_chinese_renders_with_the_bundled_font(live_server: Any, contests: dict[str, str],
                                               open_page: Any) -> None:
    page = open_page(f"{live_server.base_url}/vote/{contests['voting']}?lang=zh")
    page.wait_for_selector('#window-state[data-state="open"]')
    assert page.locator("#window-state").inner_text() == "投票进行中"
    probe = page.evaluate(FONT_PROBE, "SilkVote SC")
    assert probe["pageFont"].startswith('"SilkVote Sans", "SilkVote SC"')
    assert probe["loaded"] >= 1 and probe["fetched"] >= 1, probe
    assert probe["bundledGlyphsDiffer"], "Chinese characters render as identical boxes"
    if not probe["systemGlyphsDiffer"]:
        # This machine has no CJK font: without the bundled one the page would show tofu.
        print("no system CJK font: the bundled font is what makes Chinese readable")
    shot(page, "vote-chinese-bundled-font")


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_viewer_page_speaks_the_voting_country_s_language(
        live_server: Any, contests: dict[str, str], open_page: Any) -> None:
    """?lang=, then the switcher's choice, then the voting country's language, then the
    browser's; and the sentences take the cases their language needs."""
    url = f"{live_server.base_url}/vote/{contests['voting']}"
    page = open_page(url)  # an English browser
    page.wait_for_selector('#window-state[data-state="open"]')
    assert page.evaluate("document.documentElement.lang") == "en"
    page.click('#country-list button[data-country="KZ"]')
    page.wait_for_function("() => document.documentElement.lang === 'kk'")
    assert words(page.locator("#voting-from").inner_text()) == "Сіз Қазақстаннан дауыс бересіз"

    page.select_option("#lang", "ru")
    page.wait_for_function("() => document.documentElement.lang === 'ru'")
    assert words(page.locator("#voting-from").inner_text()) == "Вы голосуете из Казахстана"
    page.wait_for_selector('#remaining-text[data-remaining="20"]')
    page.click("#vote-MN")
    page.wait_for_selector('#message[data-kind="ok"]')
    assert page.locator("#message-text").inner_text() == "Голос за Монголию учтён. Осталось: 19."
    shot(page, "vote-russian-cases")

    page.reload()  # the switcher's choice outlives the page; ?lang= outranks it
    page.wait_for_function("() => document.documentElement.lang === 'ru'")
    page.goto(f"{url}?lang=zh")
    page.wait_for_function("() => document.documentElement.lang === 'zh'")
    chinese = words(page.locator("#voting-from").inner_text()).replace(" ", "")
    assert chinese == "您正在从哈萨克斯坦投票"
