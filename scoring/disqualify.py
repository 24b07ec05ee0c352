"""Disqualification: an entry leaves every ranking, its votes count for no one.

The EBU's rule (Eurovision 2024, the Netherlands): the disqualified entry's votes stay in
the record but count for no one, and every set is recomputed without it, so the entries
below it in each country's ranking move up and receive its 12/10/8/…/1. The disqualified
country still votes (its jury and audience sets stand).

This is done on the *sheet*, before scoring, so that the rule is one sentence: a contest
with X disqualified scores exactly as a contest in which X never entered and nobody voted
for it (the property test in tests/scoring/test_disqualify.py states it).

A body given only as points (``jury_points`` / ``televote_points``) keeps its order: the
entries below X move up one value, and the lowest value goes to no one, because such a
sheet does not say who came next.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import msgspec

from scoring.errors import SheetError
from scoring.models import CountryVote, Sheet
from scoring.ranking import award


def _moved_up(points: dict[str, int], out: Collection[str], scale: Sequence[int],
              running_order: dict[str, int]) -> dict[str, int]:
    """An awarded set without the entries in `out`: the rest keep their order and take the
    scale from the top (an entry that got 0 stays at 0)."""
    kept = [e for e, p in points.items() if p > 0 and e not in out]
    kept.sort(key=lambda e: (-points[e], running_order.get(e, 0)))
    awarded = award(kept, scale)
    return {e: awarded.get(e, 0) for e in points if e not in out}


def _vote_without(vote: CountryVote, out: Collection[str], scale: Sequence[int],
                  running_order: dict[str, int]) -> CountryVote:
    changes: dict[str, object] = {}
    if vote.jury_rankings is not None:
        changes["jury_rankings"] = [[e for e in juror if e not in out]
                                    for juror in vote.jury_rankings]
    if vote.jury_points is not None:
        changes["jury_points"] = _moved_up(vote.jury_points, out, scale, running_order)
    if vote.televote_counts is not None:
        changes["televote_counts"] = {e: n for e, n in vote.televote_counts.items()
                                      if e not in out}
    if vote.televote_points is not None:
        changes["televote_points"] = _moved_up(vote.televote_points, out, scale, running_order)
    return msgspec.structs.replace(vote, **changes) if changes else vote


def without_disqualified(sheet: Sheet) -> Sheet:
    """The sheet with its disqualified entries removed from the entries and from every
    ranking, count and awarded set; the same sheet when none is disqualified.

    Raises :class:`SheetError` when a disqualified country is not an entry."""
    if not sheet.disqualified:
        return sheet
    running_order = {e.country: e.running_order for e in sheet.entries}
    out = set(sheet.disqualified)
    for i, country in enumerate(sheet.disqualified):
        if country not in running_order:
            raise SheetError(f"disqualified[{i}]", f"{country!r} is not an entry")
    return msgspec.structs.replace(
        sheet,
        entries=[e for e in sheet.entries if e.country not in out],
        votes=[_vote_without(v, out, sheet.rules.points, running_order) for v in sheet.votes],
        disqualified=[],
    )
