"""The console's rehearsal button (issue 18, "Rehearsal"): it starts a rehearsal on a
copy of the contest, shows its progress, and prints the report with verify's verdict."""

from __future__ import annotations

from typing import Any

import pytest

from service.rehearsal.copy import rehearsal_id
from tests.browser.conftest import Admin, console_sign_in

pytestmark = pytest.mark.browser


def test_the_console_rehearses_on_a_copy_and_shows_the_report(
        live_server: Any, admin: Admin, open_page: Any) -> None:
    cid = live_server.new_contest()
    page = open_page(f"{live_server.base_url}/console/{cid}", {"width": 1366, "height": 900})
    console_sign_in(page, live_server.admin_token)
    page.fill("#rehearse-rate", "10")
    page.fill("#rehearse-seconds", "1")
    page.click("#rehearse")
    page.wait_for_function(
        "() => document.querySelector('#rehearse-report').textContent.includes('Verify: ok')",
        timeout=120_000)
    report = page.locator("#rehearse-report").inner_text()
    assert f"Rehearsal {rehearsal_id(cid, 1)}: 10 votes sent" in report
    assert admin.get(f"/api/v1/contests/{cid}")["window"] == "closed"  # the real one: as it was
