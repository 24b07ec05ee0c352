"""Synthetic jurors: codes, sessions and ballots through the jury endpoints.

Code redemptions are limited per client address (`RATE_LIMIT_JURY_LOGIN_PER_MIN`,
20 a minute by default), so a rehearsal seats at most `MAX_JURORS` jurors: enough to
rehearse the jury path for the first countries, never enough to lock itself out.
"""

from __future__ import annotations

import random
from typing import Any

from service.rehearsal.api import RehearsalApi, RehearsalError
from service.rehearsal.report import RehearsalReport

MAX_JURORS = 15
NO_JURY = "WW"  # the rest of the world votes by audience only


def jury_seats(contest: dict[str, Any], budget: int = MAX_JURORS) -> list[str]:
    """The countries of the jurors to seat: each jury up to its valid minimum, in the
    contest's order, until `budget` is spent."""
    per_country = max(1, int(contest.get("jury_min_valid") or 1))
    seats: list[str] = []
    for country in contest["voting_countries"]:
        if country == NO_JURY:
            continue
        seats.extend([country] * per_country)
    return seats[:budget]


async def seat_and_vote(api: RehearsalApi, contest: dict[str, Any], report: RehearsalReport,
                        rng: random.Random) -> None:
    """Create each juror, redeem its code for a session, and submit a random ballot."""
    cid = contest["id"]
    entries = [e["country"] for e in contest["entries"]]
    for i, country in enumerate(jury_seats(contest)):
        juror = await api.admin("POST", f"/api/v1/contests/{cid}/jurors",
                                {"country": country, "name": f"Rehearsal juror {i + 1}"})
        report.jurors += 1
        session = await api.admin("POST", "/api/v1/jury/session", {"code": juror["code"]})
        ranking = [e for e in entries if e != country]
        rng.shuffle(ranking)
        status, data = await api.call("PUT", f"/api/v1/contests/{cid}/ballot",
                                      {"ranking": ranking}, token=session["token"])
        if status != 200:
            raise RehearsalError(f"ballot of juror {juror['juror_id']}: {status} {data}")
        report.ballots += 1
