"""CasparCG HTML templates in Chromium: the overlay and the lower third define the
global play(), stop(), next() and update(data) a CasparCG server calls (CG PLAY, STOP,
NEXT, UPDATE), and update takes a JSON string or templateData XML, as the server sends."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import BROADCAST, shot
from tests.graphics.show import kazakh_jury_only

pytestmark = pytest.mark.browser

TEMPLATE_DATA = ('<templateData><componentData id="f0"><data id="text" value="Grand Final"/>'
                 '</componentData><componentData id="f1"><data id="text" value="Live"/>'
                 '</componentData></templateData>')


def cg_state(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "el => el.dataset.cg"))


def test_the_overlay_answers_the_casparcg_template_calls(live_server: Any,
                                                         open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/overlay/{cid}?cg=1", BROADCAST)
    page.wait_for_function("() => document.querySelectorAll('#board .ov-row').length === 12")
    for name in ("play", "stop", "next", "update"):
        assert page.evaluate(f"typeof window.{name}") == "function"
    assert cg_state(page, "body") == "stopped", "?cg=1 waits for CG PLAY"
    page.evaluate("play()")
    assert cg_state(page, "body") == "playing"
    page.wait_for_function("() => getComputedStyle(document.body).opacity === '1'")
    page.evaluate("s => update(s)", '{"title": "Final night"}')
    assert page.inner_text("#ov-title") == "Final night"
    page.evaluate("s => update(s)", TEMPLATE_DATA)
    assert page.inner_text("#ov-title") == "Grand Final"
    page.evaluate("next()")
    assert "hidden" in (page.get_attribute("#moment", "class") or "")
    page.evaluate("stop()")
    assert cg_state(page, "body") == "stopped"
    calls = page.evaluate("window.__casparcg.calls.map(c => c.name)")
    assert calls == ["play", "update", "update", "next", "stop"]


def test_the_lower_third_shows_the_step_on_air_and_answers_the_template_calls(
        live_server: Any, open_page: Any) -> None:
    show = kazakh_jury_only(live_server)
    step = show.reveal_next()["step"]
    page = open_page(f"{live_server.base_url}/lower-third/{show.cid}?lang=en", BROADCAST)
    assert cg_state(page, "#lt-stage") == "stopped", "a lower third waits for CG PLAY"
    page.wait_for_selector('#lt-bar[data-step="1"]')
    page.evaluate("play()")
    assert cg_state(page, "#lt-stage") == "playing"
    head = page.inner_text("#lt-head")
    assert head == "Azerbaijan's jury — substitute result" and step["from"] == "AZ"
    assert "12 points go to" in page.inner_text("#lt-line")
    assert page.inner_text("#lt-step") == f"Step 1 of {show_total(live_server, show.cid)}"
    shot(page, "lower-third-substitute")
    box = page.eval_on_selector("#lt-bar", "el => el.getBoundingClientRect().toJSON()")
    assert box["bottom"] <= 1080 - 54 and box["left"] >= 96 and box["right"] <= 1920 - 96, (
        "inside the EBU R 95 graphics-safe frame")

    page.evaluate("next()")
    assert page.get_attribute("#lt-bar", "data-page") == "1"
    assert page.inner_text("#lt-line").count(" · ") == len(step["points"]) - 1, "the whole set"
    page.evaluate("next()")
    page.evaluate("next()")
    assert page.get_attribute("#lt-bar", "data-page") == "0"

    page.evaluate("s => update(s)", TEMPLATE_DATA)
    assert page.inner_text("#lt-head") == "Grand Final"
    assert page.inner_text("#lt-line") == "Live"
    page.evaluate("s => update(s)", '{"head": "Bonus"}')
    assert page.inner_text("#lt-head") == "Bonus"
    page.evaluate("s => update(s)", "{}")
    assert page.inner_text("#lt-head") == head, "empty data gives the feed's texts back"
    page.evaluate("stop()")
    assert cg_state(page, "#lt-stage") == "stopped"


def show_total(live_server: Any, cid: str) -> int:
    return int(live_server.call("GET", f"/api/v1/contests/{cid}/reveal")["total"])
