"""`silkvote rehearse CONTEST` (service/rehearsal/): a dress rehearsal on a copy,
through the running server's real endpoints, that leaves the real contest untouched."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

import asyncpg
import httpx

from service.core.config import REPO_ROOT
from service.rehearsal.copy import rehearsal_id
from tests.conftest import LiveServer
from tests.harness.waiting import wait_until

TABLES = ("votes", "ballots", "audit_events", "window_events", "jurors", "voters")


async def _snapshot(conn: asyncpg.Connection, cid: str) -> dict[str, Any]:
    """Everything stored about `cid`: row counts and the newest audit event's hash."""
    counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t} WHERE contest_id = $1", cid)
              for t in TABLES}
    head = await conn.fetchval("SELECT event_hash FROM audit_events WHERE contest_id = $1 "
                               "ORDER BY id DESC LIMIT 1", cid)
    contest = await conn.fetchrow("SELECT window_state, jury_locked_at, revealed FROM contests "
                                  "WHERE id = $1", cid)
    return {"counts": counts, "head": head, "contest": dict(contest)}


async def test_rehearse_runs_a_whole_show_on_a_copy_and_leaves_the_contest_untouched(
        live_server: LiveServer, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    token = live_server.call("POST", f"/api/v1/contests/{cid}/voter-tokens",
                             {"voter": "real-viewer", "country": "KZ"})["token"]
    r = httpx.post(f"{live_server.base_url}/api/v1/contests/{cid}/votes",
                   json={"entry": "UZ", "key": str(uuid.uuid4())},
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    before = await _snapshot(ledger, cid)

    env = {**os.environ, "ADMIN_TOKEN": live_server.admin_token}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "rehearse", cid, "--url", live_server.base_url,
         "--rate", "40", "--seconds", "1", "--seed", "7"],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout
    copy = rehearsal_id(cid, 1)
    assert f"rehearsal {copy} of {cid}" in report
    assert "verify ok" in report
    assert "votes sent 40," in report

    assert await _snapshot(ledger, cid) == before  # the real contest: not one row more
    rehearsal = await _snapshot(ledger, copy)
    assert rehearsal["counts"]["votes"] > 0 and rehearsal["counts"]["ballots"] > 0
    contest = live_server.call("GET", f"/api/v1/contests/{copy}")
    assert contest["jury_locked"] and contest["window"] == "closed"
    reveal = live_server.call("GET", f"/api/v1/contests/{copy}/reveal")
    print("\n" + report)
    assert reveal["revealed"] == reveal["total"] > 0


def test_the_consoles_rehearsal_runs_as_a_job_whose_progress_any_poll_sees(
        live_server: LiveServer) -> None:
    cid = live_server.new_contest()
    job = live_server.call("POST", f"/api/v1/contests/{cid}/rehearsals",
                           {"rate": 20, "seconds": 1})
    assert job["state"] == "running" and job["contest"] == cid
    final = wait_until(lambda: live_server.call("GET", f"/api/v1/rehearsals/{job['id']}"),
                       120, "the rehearsal job to finish",
                       ok=lambda j: j["state"] != "running", interval_s=0.2)
    assert final["state"] == "done", final
    report = final["report"]
    assert report["rehearsal"] == rehearsal_id(cid, 1) and report["verify_ok"] is True
    assert report["votes_sent"] == 20 and report["reveal_steps"] > 0
