""""Check my votes" on the viewer page (receipts.js): the phone keeps each accepted vote's
receipt; before the seal the check says the count is not sealed yet, after it every vote
is confirmed against the sealed ledger (its record found, its audit path leading to the
signed root, checked in the page), and a receipt whose proof does not hold is not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Admin, shot, voting_from
from tests.browser.test_seal_on_air import sealed

pytestmark = pytest.mark.browser
NOT_SEALED = "The count is not sealed yet. Check again after voting closes."


def vote_from_the_page(page: Any, entries: list[str], cap: int = 20) -> None:
    """Tap each entry's vote button in turn, each vote answered before the next tap."""
    for n, entry in enumerate(entries, start=1):
        page.click(f"#vote-{entry}")
        page.wait_for_selector(f'#remaining-text[data-remaining="{cap - n}"]')
        page.wait_for_selector(f"#vote-{entry}:not([disabled])")


def saved_receipts(page: Any, cid: str, country: str) -> list[dict[str, str]]:
    key = f"silkvote.vote.{cid}.receipts.{country}"
    return list(page.evaluate("key => JSON.parse(localStorage.getItem(key) || '[]')", key))


def close_and_seal(admin: Admin, cid: str) -> dict[str, Any]:
    admin.window(cid, "closed")
    admin.post(f"/api/v1/contests/{cid}/jury/lock")  # closed and locked: sealed by itself
    return sealed(admin, cid)


def check_items(page: Any) -> list[dict[str, str]]:
    return list(page.eval_on_selector_all(
        "#check-list li", "els => els.map(e => ({receipt: e.dataset.receipt || '',"
        " ok: e.dataset.ok || '', cls: e.className, text: e.textContent}))"))


def test_check_my_votes_waits_for_the_seal_then_confirms_every_vote_from_this_phone(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid, page = voting_from(live_server, admin, open_page, "KZ", "?lang=en")
    assert page.is_hidden("#check"), "no check before this phone has sent a vote"

    vote_from_the_page(page, ["UZ", "CN", "UZ"])
    receipts = saved_receipts(page, cid, "KZ")
    assert [r["entry"] for r in receipts] == ["UZ", "CN", "UZ"]
    assert len({r["receipt"] for r in receipts}) == 3, "one receipt per vote"
    assert page.is_visible("#check")
    assert page.inner_text("#check-votes") == "Check my votes"

    # While voting is open the ledger is not sealed: the check says so and nothing else.
    page.click("#check-votes")
    page.wait_for_function("t => document.querySelector('#check-list').textContent === t",
                           arg=NOT_SEALED)
    assert page.locator("#check-list li").count() == 1
    assert page.inner_text("#check-seal") == ""
    shot(page, "vote-check-not-sealed")

    seal = close_and_seal(admin, cid)
    page.reload()  # the receipts stay on the phone
    page.wait_for_selector('#window-state[data-state="closed"]')
    page.wait_for_selector("#check:not(.hidden)")
    assert page.evaluate("window.isSecureContext"), "the page can check the proofs itself"
    page.click("#check-votes")
    page.wait_for_function("n => document.querySelectorAll('#check-list li[data-ok]').length"
                           " === n", arg=len(receipts))
    items = check_items(page)
    assert [i["receipt"] for i in items] == [r["receipt"] for r in receipts]
    assert all(i["ok"] == "true" and i["cls"] == "ok" for i in items), items
    assert [i["text"] for i in items] == [
        "In the sealed count: Uzbekistan", "In the sealed count: China",
        "In the sealed count: Uzbekistan"]
    assert page.inner_text("#check-seal") == f"Seal: {seal['fingerprint']}"
    # The same fingerprint as the results (the one on air) and the seal itself.
    assert admin.get(f"/api/v1/contests/{cid}/results")["seal"]["fingerprint"] == \
        seal["fingerprint"]
    shot(page, "vote-check-sealed")


def test_a_receipt_whose_proof_fails_or_that_the_ledger_lacks_is_not_confirmed(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid, page = voting_from(live_server, admin, open_page, "UZ", "?lang=en")
    vote_from_the_page(page, ["KZ", "MN"])
    good, tampered = saved_receipts(page, cid, "UZ")
    close_and_seal(admin, cid)

    # A receipt this phone claims but the ledger never had (the API answers 404).
    page.evaluate("([key, receipt]) => { const list = JSON.parse(localStorage.getItem(key));"
                  " list.push({receipt, entry: 'AM'}); localStorage.setItem(key,"
                  " JSON.stringify(list)); }",
                  [f"silkvote.vote.{cid}.receipts.UZ", "AAAAAAAAAAAAAAAAAAAAAA"])

    # The answer for the second vote with one byte of its audit path changed.
    altered: list[str] = []

    def alter_proof(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        assert response.status == 200 and body["proof"], "two votes: a path of one hash"
        first = body["proof"][0]
        body["proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]
        altered.append(body["receipt"])
        route.fulfill(response=response, json=body)

    page.route(f"**/api/v1/contests/{cid}/receipts/{tampered['receipt']}", alter_proof)
    page.click("#check-votes")
    page.wait_for_function("() => document.querySelectorAll('#check-list li[data-ok]').length"
                           " === 3")
    assert altered == [tampered["receipt"]]
    items = {i["receipt"]: i for i in check_items(page)}
    assert items[good["receipt"]]["ok"] == "true"
    assert items[good["receipt"]]["text"] == "In the sealed count: Kazakhstan"
    assert items[tampered["receipt"]]["ok"] == "false"
    assert items[tampered["receipt"]]["cls"] == "missing"
    assert items[tampered["receipt"]]["text"] == "Not in the sealed count: Mongolia"
    assert items["AAAAAAAAAAAAAAAAAAAAAA"]["ok"] == "false"
    assert items["AAAAAAAAAAAAAAAAAAAAAA"]["text"] == "Not in the sealed count: Armenia"
    shot(page, "vote-check-missing")


def test_a_page_that_cannot_check_proofs_never_claims_it_did(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    """Over plain HTTP to a real host the browser gives the page no WebCrypto, so it
    cannot check the audit path: it says the server found the vote, not that the proof
    holds."""
    cid, page = voting_from(live_server, admin, open_page, "GE", "?lang=en")
    vote_from_the_page(page, ["AM"])
    close_and_seal(admin, cid)
    # what an insecure context looks like to the page: crypto.subtle is undefined
    page.add_init_script("Object.defineProperty(Crypto.prototype, 'subtle',"
                         " { get: () => undefined })")
    page.reload()
    assert page.evaluate("globalThis.crypto.subtle === undefined")
    page.wait_for_selector("#check:not(.hidden)")
    page.click("#check-votes")
    page.wait_for_selector("#check-list li[data-ok]")
    [item] = check_items(page)
    assert item["ok"] == "false" and item["cls"] == "unproved", item
    assert item["text"] == "Found, proof not checked (needs HTTPS): Armenia"
