"""The console's integrity section (docs/api.md, "Contest set-up" and "Integrity"): the
producer decides who sees the standings before the broadcast announces them, hands
read tokens to graphics systems and takes them back, reads the integrity report, and
voids the votes of a voter or a network (within a time range if one is set) with a
reason. The admin token travels in the bearer header only."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DESK, Admin, console_sign_in

pytestmark = pytest.mark.browser

WITHIN_S = 10.0


def eventually(check: Callable[[], bool], what: str, within: float = WITHIN_S) -> None:
    """Ask again until `check()` holds (a server-side change reaches every reader within
    a second or two: the public view is cached for one)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.1)


def results(live_server: Any, cid: str, token: str | None = None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{live_server.base_url}/api/v1/contests/{cid}/results", params=params,
                     headers=headers, timeout=10)


def open_console(live_server: Any, open_page: Any, cid: str, **context: Any) -> Any:
    """The console of `cid`, signed in, its integrity section loaded; every request URL
    it sends is kept in `page.urls`."""
    page = open_page(f"{live_server.base_url}/console/{cid}", DESK,
                     permissions=["clipboard-read", "clipboard-write"], **context)
    page.urls = []
    page.on("request", lambda request: page.urls.append(request.url))
    console_sign_in(page, live_server.admin_token)
    page.wait_for_selector("#visibility:not([data-current=''])")
    page.wait_for_selector("#integrity-totals [data-figure='votes']")
    return page


def assert_no_credential_in_urls(page: Any, *secrets: str) -> None:
    leaked = [url for url in page.urls if any(secret in url for secret in secrets)]
    assert not leaked, f"a credential went into a URL: {leaked}"


def test_the_visibility_switch_shows_the_server_s_value_and_the_public_results_follow(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest(results_visibility="after_close")
    admin.window(cid, "open")
    admin.vote(cid, admin.voter_token(cid, "+994500000001", "AZ"), "KZ", str(uuid.uuid4()))
    page = open_console(live_server, open_page, cid)

    assert page.locator("#visibility").get_attribute("data-current") == "after_close"
    assert page.is_checked("#visibility input[value='after_close']")
    public = results(live_server, cid).json()
    assert public["standings_hidden"] is True and public["votes"] == {}

    page.check("#visibility input[value='live']")
    page.wait_for_selector("#visibility[data-current='live']")
    assert "Results visibility: Live" in page.locator("#action-msg").inner_text()
    assert admin.get(f"/api/v1/contests/{cid}")["results_visibility"] == "live"
    eventually(lambda: results(live_server, cid).json()["votes"] == {"AZ": {"KZ": 1}},
               "the public results show the counts while voting")

    page.check("#visibility input[value='reveal']")
    page.wait_for_selector("#visibility[data-current='reveal']")
    admin.window(cid, "closed")  # closed, but under `reveal` still nothing before the reveal
    eventually(lambda: results(live_server, cid).json()["standings_hidden"] is True,
               "the public results withhold the standings until the reveal")
    assert results(live_server, cid).json()["votes"] == {}
    assert "announces" in page.locator("#visibility-help").inner_text()

    page.reload()  # the switch shows what the server holds, not what this tab last did
    page.wait_for_selector("#visibility[data-current='reveal']")
    assert page.is_checked("#visibility input[value='reveal']")

    admin.post(f"/api/v1/contests/{cid}/visibility", {"results_visibility": "after_close"})
    page.wait_for_selector("#visibility[data-current='after_close']",  # another console's
                           timeout=15_000)                            # change, on its next read
    assert page.is_checked("#visibility input[value='after_close']")


def test_a_read_token_is_shown_once_works_as_a_bearer_and_stops_when_revoked(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_console(live_server, open_page, cid)
    assert "No read tokens yet." in page.locator("#read-tokens").inner_text()

    page.fill("#read-token-label", "CasparCG studio A")
    page.click("#mint-read-token")
    page.wait_for_selector("#read-token-new:not(.hidden)")
    token = page.locator("#read-token-value").inner_text().strip()
    assert token.startswith("read_")
    assert "CasparCG studio A" in page.locator("#read-token-note").inner_text()
    page.click("#copy-read-token")
    page.wait_for_selector("#copy-read-token[data-i18n='console.rt_copied']")
    assert page.evaluate("navigator.clipboard.readText()") == token

    row = page.locator("#read-tokens tr[data-revoked='false']", has_text="CasparCG studio A")
    assert "active" in row.inner_text()
    full = results(live_server, cid, token, view="full")
    assert full.status_code == 200 and full.json()["full"] is True
    listed = admin.get(f"/api/v1/contests/{cid}/read-tokens")
    assert [t["label"] for t in listed] == ["CasparCG studio A"] and "token" not in listed[0]

    revoke = row.locator("button")
    revoke.click()  # the first tap only arms the button
    assert revoke.inner_text() == "Tap again to revoke"
    assert results(live_server, cid, token, view="full").status_code == 200
    revoke.click()
    page.wait_for_selector("#read-tokens tr[data-revoked='true']")
    assert "revoked" in page.locator("#read-tokens tr[data-revoked='true']").inner_text()
    assert page.locator("#read-token-new").is_hidden()  # the revoked token is off the screen
    eventually(lambda: results(live_server, cid, token, view="full").status_code == 401,
               "the revoked read token is refused")
    assert admin.get(f"/api/v1/contests/{cid}/read-tokens")[0]["revoked_at"] is not None

    page.fill("#read-token-label", "scrutineer")  # shown once: a sign-out takes it away
    page.click("#mint-read-token")
    page.wait_for_selector("#read-token-new:not(.hidden)")
    second = page.locator("#read-token-value").inner_text().strip()
    page.click("#sign-out")
    console_sign_in(page, live_server.admin_token)
    page.locator("#read-tokens tr[data-revoked='false']", has_text="scrutineer").wait_for()
    assert page.locator("#read-token-new").is_hidden()
    assert second not in page.locator("#integrity").inner_text()
    assert_no_credential_in_urls(page, live_server.admin_token, token, second)


def test_the_report_shows_the_votes_and_a_void_takes_a_voter_s_votes_out(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    admin.window(cid, "open")
    stuffer = admin.voter_token(cid, "+994500000002", "AZ")
    for entry in ("KZ", "UZ", "GE", "KZ"):
        admin.vote(cid, stuffer, entry, str(uuid.uuid4()))
    admin.vote(cid, admin.voter_token(cid, "+77010000003", "KZ"), "UZ", str(uuid.uuid4()))
    page = open_console(live_server, open_page, cid)

    def figure(name: str) -> str:
        return str(page.locator(f"#integrity-totals [data-figure='{name}'] dd").inner_text())

    assert (figure("votes"), figure("voided"), figure("voters")) == ("5", "0", "2")
    assert page.locator("#integrity-networks tbody tr").count() == 1  # all from this host
    assert "No voids yet." in page.locator("#voids").inner_text()
    page.wait_for_function("() => document.querySelector('#accepted-total').textContent === '5'")

    fastest = page.locator("#integrity-bursts tbody tr").first
    assert fastest.locator("td").nth(1).inner_text() == "4"
    voter = fastest.get_attribute("data-voter")
    assert voter and len(voter) == 64
    fastest.locator("button").click()  # "Void…": the voter goes into the form
    assert page.input_value("#void-target") == voter
    page.fill("#void-reason", "one phone, four votes in a second")

    page.click("#void-votes")  # armed, nothing voided yet
    assert page.locator("#void-votes").inner_text() == "Tap again to void"
    assert admin.get(f"/api/v1/contests/{cid}/voids") == []
    page.click("#void-votes")
    void_row = page.locator("#voids tr[data-void]")
    void_row.wait_for()
    assert void_row.get_attribute("data-votes") == "4"
    assert "one phone, four votes in a second" in void_row.inner_text()
    assert "Votes voided: 4" in page.locator("#action-msg").inner_text()
    page.wait_for_function("() => document.querySelector("
                           "\"#integrity-totals [data-figure='voided'] dd\").textContent === '4'")
    assert figure("votes") == "1"
    page.wait_for_function("() => document.querySelector('#accepted-total').textContent === '1'")

    (void,) = admin.get(f"/api/v1/contests/{cid}/voids")
    assert void["rule"] == {"voters": [voter]} and void["votes"] == 4
    ledger = admin.get(f"/api/v1/contests/{cid}/results?source=ledger&view=full")
    assert ledger["votes"] == {"KZ": {"UZ": 1}}
    assert_no_credential_in_urls(page, live_server.admin_token)


def test_a_network_from_the_report_is_voided_from_the_moment_its_burst_began(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    """A burst from one network: the producer voids that network's votes received since
    the burst began, and the votes it sent before keep counting."""
    cid = live_server.new_contest()
    admin.window(cid, "open")
    admin.vote(cid, admin.voter_token(cid, "+994500000005", "AZ"), "KZ", str(uuid.uuid4()))
    admin.vote(cid, admin.voter_token(cid, "+77010000006", "KZ"), "UZ", str(uuid.uuid4()))
    burst_from = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    eventually(lambda: datetime.now(UTC) >= burst_from, "the burst's first second begins")
    stuffer = admin.voter_token(cid, "+994500000007", "AZ")
    for entry in ("GE", "GE", "KZ"):
        admin.vote(cid, stuffer, entry, str(uuid.uuid4()))
    page = open_console(live_server, open_page, cid, timezone_id="UTC")

    busiest = page.locator("#integrity-networks tbody tr").first  # all from this host
    network = busiest.get_attribute("data-network")
    busiest.locator("button").click()  # "Void…": the network goes into the form
    assert page.input_value("#void-kind") == "network"
    assert page.input_value("#void-target") == network
    page.fill("#void-from", burst_from.strftime("%Y-%m-%dT%H:%M:%S"))  # the desk's time: UTC
    page.fill("#void-reason", "a burst from one network")
    page.click("#void-votes")
    page.click("#void-votes")
    void_row = page.locator("#voids tr[data-void]")
    void_row.wait_for()
    assert void_row.get_attribute("data-votes") == "3"
    assert "Votes voided: 3" in page.locator("#action-msg").inner_text()

    (void,) = admin.get(f"/api/v1/contests/{cid}/voids")
    assert void["rule"]["networks"] == [network] and "until" not in void["rule"]
    assert datetime.fromisoformat(void["rule"]["from"]) == burst_from
    ledger = admin.get(f"/api/v1/contests/{cid}/results?source=ledger&view=full")
    assert ledger["votes"] == {"AZ": {"KZ": 1}, "KZ": {"UZ": 1}}


def test_a_void_the_form_or_the_server_refuses_is_explained(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    admin.window(cid, "open")
    admin.vote(cid, admin.voter_token(cid, "+994500000004", "AZ"), "KZ", str(uuid.uuid4()))
    admin.window(cid, "closed")
    admin.post(f"/api/v1/contests/{cid}/jury/lock")
    admin.post(f"/api/v1/contests/{cid}/seal")  # (or the seal the lock made already)
    page = open_console(live_server, open_page, cid)

    page.fill("#void-target", "not a hash")
    page.fill("#void-reason", "test")
    page.click("#void-votes")
    page.click("#void-votes")
    page.wait_for_selector("#action-msg.error")
    assert "64 hex digits" in page.locator("#action-msg").inner_text()

    page.locator("#integrity-bursts tbody tr button").click()
    page.click("#void-votes")
    page.click("#void-votes")
    page.wait_for_function("() => document.querySelector('#action-msg').textContent"
                           ".includes('The ledger is sealed')")
    assert admin.get(f"/api/v1/contests/{cid}/voids") == []
    assert page.input_value("#void-reason") == "test"  # kept, for another try
