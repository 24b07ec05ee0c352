"""The producer's jury desk: how far each jury is, who will get a substitute, and the
printable sign-in card of a new juror.

The substitute rule is the one `results/sheet.py` applies at the lock (a jury with
fewer ballots than `jury_min_valid`, at least one, is replaced by the aggregate of the
valid juries), so the warning the console shows before the lock says exactly what the
lock will do.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import msgspec
import segno

from service.contests.models import Contest
from service.results.sheet import REST_OF_WORLD


class JuryCountry(msgspec.Struct):
    country: str
    jurors: int  # jurors created for this country
    ballots: int  # jurors who have submitted a ballot
    size: int  # the contest's jury_size (the "5" of "3/5")
    needed: int  # ballots for a valid jury (jury_min_valid, at least 1)
    substitute: bool  # locked now, this jury would be replaced by a substitute result


class JuryProgress(msgspec.Struct):
    locked: bool
    countries: list[JuryCountry]
    #: Countries whose jury would get (or, once locked, got) a substitute result.
    substitutes: list[str]
    #: No jury is valid: nobody to substitute from, so no jury points at all.
    no_valid_jury: bool


def jury_progress(contest: Contest, statuses: Iterable[Any]) -> JuryProgress:
    """Ballots per jury country from `JuryStore.statuses` rows (country, ballot_at)."""
    jurors: dict[str, int] = {}
    ballots: dict[str, int] = {}
    for row in statuses:
        jurors[row["country"]] = jurors.get(row["country"], 0) + 1
        if row["ballot_at"] is not None:
            ballots[row["country"]] = ballots.get(row["country"], 0) + 1
    needed = max(contest.jury_min_valid, 1)
    juries = [c for c in contest.voting_countries if c != REST_OF_WORLD]
    if contest.jury_size == 0:
        juries = []
    valid = {c for c in juries if ballots.get(c, 0) >= needed}
    countries = [
        JuryCountry(country=c, jurors=jurors.get(c, 0), ballots=ballots.get(c, 0),
                    size=contest.jury_size, needed=needed,
                    substitute=bool(valid) and c not in valid)
        for c in juries
    ]
    return JuryProgress(locked=contest.jury_locked, countries=countries,
                        substitutes=[c.country for c in countries if c.substitute],
                        no_valid_jury=bool(juries) and not valid)


def sign_in_url(base_url: str, code: str) -> str:
    """The jury page with the code in the fragment: a phone or tablet that scans the QR
    code opens the page ready to sign in, and the code never reaches a server log."""
    return f"{base_url.rstrip('/')}/jury#code={code}"


def qr_svg(url: str) -> str:
    """An SVG QR code of `url` (error correction M: survives a creased print-out)."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="svg", scale=4, border=2, dark="#000",
                                       light="#fff", xmldecl=False, svgns=True, nl=False)
    return out.getvalue().decode()
