"""The producer console and the on-air reveal in a real browser: open voting, live
counts, step the reveal and watch the overlay; the overlay's websocket client."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.browser.conftest import BROADCAST, DESK, Admin, console_sign_in, order_of, shot

pytestmark = pytest.mark.browser

RUNNING_ORDER = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]


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

    overlay = open_page(f"{live_server.base_url}/overlay/{cid}?title=Silk%20Way%20Star"
                        "&winner_hold=1500", BROADCAST)
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
        overlay.wait_for_selector(f'#board[data-revealed="{k}"]', timeout=15_000)
        # Every step is on air, the last one too (the winner follows it, checked below).
        overlay.wait_for_selector(f'#moment[data-step="{k}"]', timeout=15_000)
        assert overlay.locator("#moment").get_attribute("data-to") == top
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
    page.click("#close-window")  # two taps, as for the lock
    page.wait_for_selector('#window-state[data-state="closed"]')
    page.click("#lock-jury")
    page.click("#lock-jury")  # two taps: the first only arms the button
    page.wait_for_selector('#jury-state[data-state="locked"]')
    assert admin.get(f"/api/v1/contests/{cid}")["jury_locked"] is True
    shot(page, "console")


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
    context_page.wait_for_function("() => window.__fakes.length === 3", timeout=15_000)
