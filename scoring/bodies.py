"""Each voting country's jury and audience verdicts: its own, or a substitute aggregate.

The jury is settled before the audience because equal televote counts go to the entry
the same country's jury ranked higher. A substitute is built only from the listed
countries' own verdicts, never from another substitute, so the result does not depend on
the order in which substitutes are filled in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scoring.models import CountryVote, Entry, Rules, Sheet
from scoring.ranking import (
    award,
    jury_order_from_rankings,
    points_order,
    substitute_order,
    televote_order,
)
from scoring.validate import CheckedSheet, CheckedVote, check_sheet


@dataclass
class Verdict:
    """One body's verdict: the order is kept beside the points because the televote and
    the combined mode read the order (not only who got points)."""

    order: list[str]  # the body's ranking, best first (only entries it ranked)
    raw: dict[str, int]  # the raw scale points it awards, best first
    substitute: bool = False
    note: str = ""


Verdicts = dict[str, Verdict | None]  # voting country -> its verdict of one body


def _own_jury(vote: CheckedVote, sheet: CheckedSheet) -> Verdict | None:
    cv = vote.source
    if not vote.jury_ok:
        return None
    if cv.jury_rankings is not None:
        order = jury_order_from_rankings(
            cv.jury_rankings, sheet.rules.jury_method, sheet.running_order
        )
        return Verdict(order=order, raw=award(order, sheet.scale))
    assert cv.jury_points is not None
    order = points_order(cv.jury_points, sheet.running_order)
    return Verdict(order=order, raw={e: cv.jury_points[e] for e in order})


def _own_televote(vote: CheckedVote, sheet: CheckedSheet, jury: Verdict | None) -> Verdict | None:
    cv = vote.source
    if not vote.televote_ok:
        return None
    if cv.televote_counts is not None:
        counts = cv.televote_counts
        if vote.country in counts:  # validated to be 0; keep it out of the ranking
            counts = {e: n for e, n in counts.items() if e != vote.country}
        order = televote_order(
            counts, sheet.running_order, jury.order if jury is not None else None
        )
        return Verdict(order=order, raw=award(order, sheet.scale))
    assert cv.televote_points is not None
    order = points_order(cv.televote_points, sheet.running_order)
    return Verdict(order=order, raw={e: cv.televote_points[e] for e in order})


def _substitute(
    vote: CheckedVote,
    own: Mapping[str, Verdict | None],
    sheet: CheckedSheet,
    problem: str,
    body: str,
) -> Verdict:
    sets = [r.raw for c in vote.substitutes if (r := own.get(c)) is not None]
    order = substitute_order(sets, vote.country, sheet.running_order)
    note = problem or f"no {body}"
    note += "; substitute from " + ", ".join(c for c in vote.substitutes if own.get(c) is not None)
    return Verdict(order=order, raw=award(order, sheet.scale), substitute=True, note=note)


def verdicts(sheet: CheckedSheet) -> tuple[Verdicts, Verdicts]:
    """Every voting country's (jury, televote) verdicts, substitutes filled in."""
    own_jury = {v.country: _own_jury(v, sheet) for v in sheet.votes}
    jury = dict(own_jury)
    for v in sheet.votes:
        if v.jury_substitute:
            jury[v.country] = _substitute(v, own_jury, sheet, v.jury_problem, "jury")
    own_tele = {v.country: _own_televote(v, sheet, jury[v.country]) for v in sheet.votes}
    tele = dict(own_tele)
    for v in sheet.votes:
        if v.televote_substitute:
            tele[v.country] = _substitute(v, own_tele, sheet, v.televote_problem, "televote")
    return jury, tele


def jury_set(
    rules: Rules, entries: Sequence[Entry], country: str, rankings: list[list[str]]
) -> dict[str, int]:
    """One voting country's jury set from its jurors' rankings: raw scale points, best
    first, before weights: what ``score`` computes for that country, without building a
    whole sheet. Raises :class:`SheetError` (field ``votes[0].jury_rankings[j]...``) for
    invalid rankings."""
    sheet = check_sheet(
        Sheet(
            rules=rules,
            entries=list(entries),
            votes=[CountryVote(from_=country, jury_rankings=rankings)],
        )
    )
    verdict = _own_jury(sheet.votes[0], sheet)
    return dict(verdict.raw) if verdict is not None else {}
