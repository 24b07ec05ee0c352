"""The presenter view in Chromium: the line to read for each reveal step, in the show's
language, with the next step's preview; →, Space and Page Down advance the reveal
through the same HTTP endpoint hardware panels use; substitutes are read as such
("Azerbaijan's jury — substitute result"), and the last step is shown, not swallowed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import DESK, TABLET, shot
from tests.graphics.show import kazakh_jury_only

pytestmark = pytest.mark.browser

EN_NAMES = {"AZ": "Azerbaijan", "AM": "Armenia", "KZ": "Kazakhstan"}
RU_GENITIVE = {"AZ": "Азербайджана", "AM": "Армении", "KZ": "Казахстана"}


def sign_in(page: Any, token: str) -> None:
    page.wait_for_selector("#p-auth:not(.hidden)")
    page.fill("#p-token", token)
    page.click("#p-auth-btn")
    page.wait_for_selector("#p-main:not(.hidden)")


def revealed(page: Any, n: int) -> None:
    page.wait_for_selector(f'#p-progress[data-revealed="{n}"]', timeout=15_000)


def test_keys_step_the_reveal_and_each_line_says_whose_result_it_is(live_server: Any,
                                                                    open_page: Any) -> None:
    show = kazakh_jury_only(live_server)
    steps = live_server.call("GET", f"/api/v1/contests/{show.cid}/results?view=full")["reveal"]
    total = len(steps)
    page = open_page(f"{live_server.base_url}/presenter/{show.cid}?lang=en", DESK)
    sign_in(page, live_server.admin_token)
    page.wait_for_selector(f'#p-progress[data-total="{total}"]')
    first = steps[0]
    assert first["body"] == "jury" and first["substitute"], "AZ votes first, with a substitute"
    preview = page.inner_text("#p-next")
    assert f"{EN_NAMES[first['from']]}'s jury — substitute result" in preview

    page.keyboard.press("ArrowRight")
    revealed(page, 1)
    now = page.inner_text("#p-now")
    assert f"{EN_NAMES[first['from']]}'s jury — substitute result" in now
    top = next(iter(first["points"]))
    assert "12 points go to" in now
    assert page.locator("#p-now").get_attribute("data-substitute") == "true"
    shot(page, "presenter-substitute-en")
    public = httpx.get(f"{live_server.base_url}/api/v1/contests/{show.cid}/reveal").json()
    assert public["revealed"] == 1 and public["steps"][0]["points"] == first["points"], (
        "the key drove the reveal endpoint itself")
    assert top in public["steps"][0]["points"]

    own = next(s for s in steps if s["body"] == "jury" and s["from"] == "KZ")
    for k, key in zip(range(2, own["step"] + 1), ["Space", "PageDown"] * total, strict=False):
        page.keyboard.press(key)
        revealed(page, k)
    now = page.inner_text("#p-now")
    assert "Jury of Kazakhstan" in now and "substitute result" not in now
    assert page.locator("#p-now").get_attribute("data-substitute") == "false"

    ru = open_page(f"{live_server.base_url}/presenter/{show.cid}?lang=ru", TABLET)
    sign_in(ru, live_server.admin_token)
    revealed(ru, own["step"])
    assert f"Жюри {RU_GENITIVE['KZ']}" in ru.inner_text("#p-now")
    assert "Шаг" in ru.inner_text("#p-progress")
    shot(ru, "presenter-ru")

    for k in range(own["step"] + 1, total + 1):
        page.keyboard.press("ArrowRight")
        revealed(page, k)
    last = steps[-1]
    assert last["body"] == "televote"
    assert page.locator("#p-now").get_attribute("data-step") == str(total), (
        "the last step is on air, not swallowed by the final result")
    assert "from the televote" in page.inner_text("#p-now")
    assert "wins with" in page.inner_text("#p-next")
    assert page.locator("#p-next-btn").is_disabled()
    page.keyboard.press("ArrowRight")  # past the end: nothing is sent, nothing breaks
    revealed(page, total)
    shot(page, "presenter-final-en")
