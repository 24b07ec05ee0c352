"""A whole rehearsal, in the order of a show: copy, open, vote (audience and jury),
close, lock, reveal every step, verify."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from service.rehearsal.api import RehearsalApi
from service.rehearsal.copy import copy_contest
from service.rehearsal.jury import seat_and_vote
from service.rehearsal.report import RehearsalReport
from service.rehearsal.traffic import Audience

VOTES_PER_VIEWER = 3  # viewers vote a few times each, as on the night
MAX_REVEAL_STEPS = 10_000

Progress = Callable[[str, int, int], None]  # (phase, done, total)


async def rehearse(api: RehearsalApi, contest_id: str, rate: float, seconds: float,
                   progress: Progress, seed: int | None = None) -> RehearsalReport:
    """Run the rehearsal on a copy of `contest_id`; `progress` hears of every step."""
    rng = random.Random(seed)
    _, copy_id = await copy_contest(api, contest_id)
    report = RehearsalReport(contest=contest_id, rehearsal=copy_id, rate=rate, seconds=seconds)
    contest = await api.admin("GET", f"/api/v1/contests/{copy_id}")
    path = f"/api/v1/contests/{copy_id}"
    total_votes = int(rate * seconds)

    with _timed(report, "set-up"):
        audience = Audience(api, contest, report, seed=rng.randrange(2**32))
        await audience.prepare(max(1, total_votes // VOTES_PER_VIEWER))
        await api.admin("POST", f"{path}/window", {"state": "open"})
    with _timed(report, "voting"):
        sent = 0

        def moved(n: int) -> None:
            nonlocal sent
            sent += n
            progress("votes", sent, total_votes)

        await audience.run(rate, seconds, moved)
    with _timed(report, "jury"):
        await seat_and_vote(api, contest, report, rng)
        progress("jury", report.ballots, report.jurors)
    with _timed(report, "reveal"):
        await api.admin("POST", f"{path}/window", {"state": "closed"})
        await api.admin("POST", f"{path}/jury/lock")
        await _reveal_all(api, path, report, progress)
    with _timed(report, "verify"):
        verdict = await api.admin("POST", f"{path}/verify")
        report.verify_ok = bool(verdict["ok"])
        report.ledger_total = int(verdict["ledger_total"])
        report.live_total = int(verdict["live_total"])
    return report


async def _reveal_all(api: RehearsalApi, path: str, report: RehearsalReport,
                      progress: Progress) -> None:
    for _ in range(MAX_REVEAL_STEPS):
        status, data = await api.call("POST", f"{path}/reveal/next")
        if status != 200:
            return  # 409 reveal_complete (or nothing to reveal)
        report.reveal_steps = int(data["revealed"])
        progress("reveal", int(data["revealed"]), int(data["total"]))
        if data["revealed"] >= data["total"]:
            return


@contextmanager
def _timed(report: RehearsalReport, phase: str) -> Any:
    start = time.monotonic()
    try:
        yield
    finally:
        report.timings_s[phase] = round(time.monotonic() - start, 2)
