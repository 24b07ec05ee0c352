"""Playwright fixtures for the page tests: Debian's Chromium, one browser per test module.

Playwright's own browser download does not work on these machines, so the tests drive
`/usr/bin/chromium` (`make browser` installs it) and skip with that reason when it is
missing. Screenshots go to `test-artifacts/screenshots/` (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1280, "height": 800}
DESK = {"width": 1440, "height": 900}
BROADCAST = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def browser(live_server: Any) -> Iterator[Any]:
    """One Chromium per test module, started after the (async) store fixtures.

    Playwright's sync API runs its own event loop in this thread while it is open, so
    it must not outlive the module: pytest-asyncio could not run the async tests and
    fixtures that follow. Depending on `live_server` makes the stores start first.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) "
                    "to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class PageLog:
    """What a page printed: uncaught errors fail the test that opened it."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


@pytest.fixture
def needs_browser(browser: Any) -> Any:
    return browser


@pytest.fixture
def open_page(needs_browser: Any) -> Iterator[Callable[..., Any]]:
    """open_page(url, viewport=PHONE, locale="en-US") → a Playwright page on a new context."""
    contexts: list[Any] = []
    logs: list[PageLog] = []

    def opener(url: str, viewport: dict[str, int] | None = None, locale: str = "en-US",
               **context_args: Any) -> Any:
        context = needs_browser.new_context(viewport=viewport or PHONE, locale=locale,
                                            **context_args)
        contexts.append(context)
        page = context.new_page()
        log = PageLog()
        logs.append(log)
        page.on("pageerror", lambda exc: log.errors.append(str(exc)))
        page.on("console", lambda msg: log.console.append(f"{msg.type}: {msg.text}"))
        page.goto(url)
        page.log = log
        return page

    yield opener
    for context in contexts:
        context.close()
    errors = [e for log in logs for e in log.errors]
    assert not errors, f"uncaught errors in the page: {errors}"
    blocked = [m for log in logs for m in log.console if "Content Security Policy" in m]
    assert not blocked, f"the pages broke their own Content-Security-Policy: {blocked}"


def shot(page: Any, name: str) -> Path:
    """Save a screenshot of the page under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class Admin:
    """Admin-side set-up calls against the live server (plain HTTP, like a script would)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=20,
                                   headers={"Authorization": f"Bearer {token}"})

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.client.post(path, json=body)
        assert response.status_code == expect, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def get(self, path: str) -> Any:
        response = self.client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def window(self, cid: str, state: str) -> None:
        self.post(f"/api/v1/contests/{cid}/window", {"state": state})

    def juror(self, cid: str, country: str, name: str = "Juror") -> str:
        return str(self.post(f"/api/v1/contests/{cid}/jurors",
                             {"country": country, "name": name}, expect=201)["code"])

    def voter_token(self, cid: str, voter: str, country: str) -> str:
        body = {"voter": voter, "country": country}
        return str(self.post(f"/api/v1/contests/{cid}/voter-tokens", body, expect=201)["token"])

    def vote(self, cid: str, token: str, entry: str, key: str) -> Any:
        response = httpx.post(f"{self.base_url}/api/v1/contests/{cid}/votes",
                              json={"entry": entry, "key": key},
                              headers={"Authorization": f"Bearer {token}"}, timeout=20)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def admin(live_server: Any) -> Iterator[Admin]:
    client = Admin(live_server.base_url, live_server.admin_token)
    yield client
    client.close()


def order_of(page: Any, selector: str = "#ranking .row") -> list[str]:
    """The country codes of the rows `selector` matches, top to bottom."""
    return list(page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.country)"))


def voting_from(live_server: Any, admin: Admin, open_page: Any, country: str,
                query: str = "") -> tuple[str, Any]:
    """A new contest with its window open, and a phone on its viewer page that has
    chosen `country` and shows the open window and the full allowance: (cid, page)."""
    cid = live_server.new_contest()
    admin.window(cid, "open")
    page = open_page(f"{live_server.base_url}/vote/{cid}{query}", PHONE)
    page.click(f'#country-list button[data-country="{country}"]')
    page.wait_for_selector('#remaining-text[data-remaining="20"]')
    page.wait_for_selector('#window-state[data-state="open"]')
    return cid, page


def signed_in_console(live_server: Any, open_page: Any) -> tuple[str, Any]:
    """A new contest and its producer console on a desk screen, signed in: (cid, page)."""
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/console/{cid}", DESK)
    console_sign_in(page, live_server.admin_token)
    return cid, page


def console_sign_in(page: Any, token: str) -> None:
    page.wait_for_selector("#auth:not(.hidden)")
    page.fill("#admin-token", token)
    page.click("#auth-btn")
    page.wait_for_selector("#console:not(.hidden)")
