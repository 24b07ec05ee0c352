"""A whole show on the broadcast overlay, as the issue ran it: only Kazakhstan's jury
votes, so eleven juries and the seven silent audiences get substitute results; twelve
entries, 24 reveal steps, stepped from the producer console.

What goes on air must be true and fit the frame: a substitute is never presented as the
country's own vote, every step (the last included) is shown before the winner, no
points chip or title is cut or spills, and every element stays inside the EBU R 95
graphics-safe frame (5 %: 96 px and 54 px of a 1920×1080 frame).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from service.web.translations import catalog
from tests.browser.conftest import BROADCAST, DESK, Admin, console_sign_in, shot
from tests.browser.test_show_pages import cast_votes, submit_ballots

pytestmark = pytest.mark.browser

TITLE = "Silk Way Star 2026 — Grand Final (dress rehearsal)"
GRAPHICS_SAFE = {"left": 96, "top": 54, "right": 1920 - 96, "bottom": 1080 - 54}
ACTION_SAFE = {"left": 67.2, "top": 37.8, "right": 1920 - 67.2, "bottom": 1080 - 37.8}
# Five audiences vote (and the rest of the world); AM GE IN KG MN TJ TM stay silent.
AUDIENCES = {"KZ": {"KR": 3, "UZ": 1, "CN": 1}, "AZ": {"KR": 2, "GE": 1},
             "UZ": {"KR": 2, "KZ": 1}, "CN": {"KZ": 1}, "KR": {"UZ": 2}, "WW": {"KR": 1}}
SILENT = {"AM", "GE", "IN", "KG", "MN", "TJ", "TM"}

OUTSIDE_FRAME = """frame => {
  const guides = document.getElementById("guides");
  const out = [];
  for (const el of document.querySelectorAll("#stage *")) {
    if (guides && guides.contains(el)) continue;
    const style = getComputedStyle(el);
    if (style.visibility !== "visible" || Number(style.opacity) === 0) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.left < frame.left - 0.5 || r.top < frame.top - 0.5 || r.right > frame.right + 0.5
        || r.bottom > frame.bottom + 0.5) {
      out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className.baseVal ?? el.className}`
        + ` [${Math.round(r.left)},${Math.round(r.top)} → ${Math.round(r.right)},`
        + `${Math.round(r.bottom)}] "${(el.textContent || "").slice(0, 40)}"`);
    }
  }
  return out;
}"""

CUT_TEXT = """() => {
  const out = [];
  const title = document.getElementById("ov-title");
  if (title.scrollWidth > title.clientWidth || title.scrollHeight > title.clientHeight) {
    const beside = document.getElementById("ov-phase").textContent;
    out.push(`title cut: "${title.textContent}" (${title.scrollWidth} px in`
      + ` ${title.clientWidth} px at ${title.style.fontSize}, beside "${beside}")`);
  }
  for (const row of document.querySelectorAll("#board .ov-row")) {
    const chip = row.querySelector(".chip"), total = row.querySelector(".total");
    const name = row.querySelector(".name");
    if (chip.classList.contains("on")) {
      if (chip.scrollWidth > chip.clientWidth) out.push(`chip cut: ${chip.textContent}`);
      if (chip.getBoundingClientRect().right > total.getBoundingClientRect().left)
        out.push(`chip ${chip.textContent} runs into the total ${total.textContent}`);
    }
    if (total.scrollWidth > total.clientWidth) out.push(`total cut: ${total.textContent}`);
    if (name.scrollWidth > name.clientWidth) out.push(`name cut: ${name.textContent}`);
  }
  const moment = document.getElementById("moment");
  if (!moment.classList.contains("hidden") && moment.scrollWidth > moment.clientWidth)
    out.push(`banner cut: ${moment.textContent}`);
  return out;
}"""

SETTLED = """() => document.getAnimations().every(a => a.playState !== "running"
  || a.animationName === "twelve" || a.animationName === "pulse")"""


def run_up_to_the_reveal(live_server: Any, admin: Admin) -> str:
    cid = live_server.new_contest()
    submit_ballots(live_server, admin, cid, "KZ", 3)
    admin.window(cid, "open")
    cast_votes(admin, cid, AUDIENCES)
    admin.window(cid, "closed")
    admin.post(f"/api/v1/contests/{cid}/jury/lock")
    return cid


def check_on_air(overlay: Any, where: str) -> None:
    overlay.wait_for_function(SETTLED, timeout=15_000)
    assert overlay.evaluate(CUT_TEXT) == [], where
    assert overlay.evaluate(OUTSIDE_FRAME, GRAPHICS_SAFE) == [], where


def test_a_whole_show_goes_on_air_marked_complete_and_inside_the_frame(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = run_up_to_the_reveal(live_server, admin)
    full = admin.get(f"/api/v1/contests/{cid}/results?view=full")
    steps = full["reveal"]
    assert len(steps) == 24
    substitutes = {(s["from"], s["body"]) for s in full["sets"] if s["substitute"]}
    juries = {c for c, body in substitutes if body == "jury"}
    assert len(juries) == 11 and "KZ" not in juries
    assert {c for c, body in substitutes if body == "televote"} == SILENT
    russian = catalog("ru")

    overlay = open_page(f"{live_server.base_url}/overlay/{cid}?winner_hold=2500"
                        f"&title={quote(TITLE)}", BROADCAST)
    overlay.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    in_russian = open_page(f"{live_server.base_url}/overlay/{cid}?lang=ru", BROADCAST)
    console = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    console_sign_in(console, live_server.admin_token)
    check_on_air(overlay, "before the reveal")

    three_digit_chip = False
    for k, step in enumerate(steps, start=1):
        console.wait_for_selector("#reveal-next:not([disabled])")
        console.wait_for_selector(f'#reveal-next-preview .label:text-is("Next: step {k}")')
        preview = console.inner_text("#reveal-next-preview")
        if step["body"] == "jury" and step["from"] in juries:
            assert "jury — substitute result" in preview, preview
        if step["body"] == "jury" and step["from"] == "KZ":
            assert "substitute" not in preview, preview
        console.click("#reveal-next")
        overlay.wait_for_selector(f'#moment[data-step="{k}"]', timeout=15_000)
        banner = overlay.inner_text("#moment")
        assert "null" not in banner and "undefined" not in banner, banner
        if step["body"] == "jury":
            if step["from"] in juries:
                assert "'s jury — substitute result" in banner and "from " not in banner, banner
                assert overlay.get_attribute("#moment", "data-substitute") == "1"
                in_russian.wait_for_selector(f'#moment[data-step="{k}"]', timeout=15_000)
                said = russian.text("results.jury_substitute", country=step["from"])
                assert said in in_russian.inner_text("#moment")  # "Жюри Армении — …"
            else:
                assert banner.endswith("from Kazakhstan"), banner
        else:
            # The audiences whose substitute results gave this entry points, by flag.
            stood_in = step["substitutes"]
            assert overlay.get_attribute("#moment", "data-substitutes") == " ".join(stood_in)
            assert ("substitute result" in banner) == bool(stood_in), banner
            assert overlay.locator("#moment .note.substitute .flag").count() == len(stood_in)
            chip = overlay.inner_text(".ov-row .chip.on")
            three_digit_chip |= len(chip.lstrip("+")) >= 3
        check_on_air(overlay, f"step {k}: {banner}")
        if step["body"] == "televote" and len(step["substitutes"]) >= 5:
            shot(overlay, "overlay-televote-substitutes")
        if k == len(steps):
            shot(overlay, "overlay-last-step")

    # The 24th step was on air (above); only then the winner.
    overlay.wait_for_selector('#moment[data-step="final"]', timeout=15_000)
    assert three_digit_chip, "the show had a three-digit televote chip (the +109 case)"
    check_on_air(overlay, "the winner")
    seen = {h["revealed"] for h in overlay.evaluate("window.__overlay.history")}
    assert set(range(1, 25)) <= seen
    shot(overlay, "overlay-winner")


def test_guides_draw_the_action_and_graphics_safe_frames(live_server: Any,
                                                          open_page: Any) -> None:
    cid = live_server.new_contest()
    overlay = open_page(f"{live_server.base_url}/overlay/{cid}?guides=1", BROADCAST)
    overlay.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    for kind, frame in (("action", ACTION_SAFE), ("graphics", GRAPHICS_SAFE)):
        box = overlay.locator(f'#guides [data-frame="{kind}"]').bounding_box()
        assert box is not None
        assert box["x"] == pytest.approx(frame["left"], abs=0.5)
        assert box["y"] == pytest.approx(frame["top"], abs=0.5)
        assert box["x"] + box["width"] == pytest.approx(frame["right"], abs=0.5)
        assert box["y"] + box["height"] == pytest.approx(frame["bottom"], abs=0.5)
    check_on_air(overlay, "with guides")
    shot(overlay, "overlay-guides")
    plain = open_page(f"{live_server.base_url}/overlay/{cid}", BROADCAST)
    plain.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    assert plain.locator("#guides").count() == 0


def test_the_hide_scores_switch_waits_for_the_server_s_mode_before_it_takes_a_click(
        live_server: Any, open_page: Any) -> None:
    """Until the console has the server's mode, a click could be undone by the first
    results to arrive; so the switch is off limits until then."""
    cid = live_server.new_contest()
    console = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    held: list[Any] = []
    console.route("**/api/v1/ws-tickets", lambda route: held.append(route))  # no results yet
    console_sign_in(console, live_server.admin_token)
    assert console.is_disabled("#hide-scores")

    for route in held:
        route.continue_()
    console.unroute("**/api/v1/ws-tickets")
    console.wait_for_selector("#hide-scores:not([disabled])")
    console.check("#hide-scores")
    console.wait_for_function("() => document.querySelector('#action-msg').textContent !== ''")
    assert console.is_checked("#hide-scores")


def test_hide_scores_mode_takes_the_numbers_off_the_overlay(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    admin.window(cid, "open")
    cast_votes(admin, cid, {"KZ": {"UZ": 2}})
    overlay = open_page(f"{live_server.base_url}/overlay/{cid}", BROADCAST)
    overlay.wait_for_selector('#board .ov-row[data-country="UZ"][data-total="12"]')
    assert overlay.is_visible('#board .ov-row[data-country="UZ"] .total')
    console = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    console_sign_in(console, live_server.admin_token)

    console.check("#hide-scores")
    overlay.wait_for_selector("body.hide-scores")
    totals = overlay.eval_on_selector_all(
        "#board .total, #board .chip", "els => els.filter(e => e.checkVisibility({"
        "visibilityProperty: true})).length")
    assert totals == 0, "no score is visible in hide-scores mode"
    assert admin.get(f"/api/v1/contests/{cid}")["hide_scores"] is True
    assert overlay.get_attribute('#board .ov-row[data-country="UZ"]', "data-place") == "1"
    shot(overlay, "overlay-hide-scores")

    console.uncheck("#hide-scores")
    overlay.wait_for_selector("body:not(.hide-scores)")
    assert overlay.is_visible('#board .ov-row[data-country="UZ"] .total')
