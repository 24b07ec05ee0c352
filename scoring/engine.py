"""``score(sheet) -> Result``: the contest rules, pure and synchronous.

Scoring walks the sets once: while each set is written out, its awards go into the
entries' tallies and explanations, so the scoreboard and the reveal only read tallies.
"""

from __future__ import annotations

from typing import cast

from scoring.disqualify import without_disqualified
from scoring.models import Explanation, PointSet, PointsValue, Result, Sheet
from scoring.numbers import points_writer
from scoring.reveal import reveal_order
from scoring.rules import integral_weights
from scoring.scoreboard import Tally, scoreboard
from scoring.sets import country_sets
from scoring.validate import check_sheet


def score(sheet: Sheet) -> Result:
    """Score a sheet: every set, the scoreboard with its tie-breaks, the reveal order and the
    per-entry explanations. Raises :class:`SheetError` for a sheet that breaks the rules
    (a sheet built in code has not been through :func:`decode_sheet`)."""
    checked = check_sheet(without_disqualified(sheet))
    # combined sets award whole scale points, whatever the weights
    as_int = checked.rules.combination == "combined" or integral_weights(checked.rules)
    fmt = points_writer(as_int)

    sets = country_sets(checked)
    tallies = {e: Tally() for e in checked.running_order}
    explanations: dict[str, list[Explanation]] = {e: [] for e in checked.running_order}
    out_sets: list[PointSet] = []
    for s in sets:
        weighted = s.weighted()
        points = (
            cast(dict[str, PointsValue], weighted)
            if as_int
            else {e: fmt(v) for e, v in weighted.items()}
        )
        for rank, (entry, raw) in enumerate(s.raw.items(), start=1):
            tallies[entry].add(s.body, raw, weighted[entry])
            explanations[entry].append(
                Explanation(
                    from_=s.country,
                    body=s.body,
                    points=points[entry],
                    rank=rank,
                    substitute=s.substitute,
                )
            )
        out_sets.append(
            PointSet(
                from_=s.country,
                body=s.body,
                points=points,
                substitute=s.substitute,
                note=s.note,
            )
        )

    return Result(
        scoreboard=scoreboard(checked, tallies, fmt),
        sets=out_sets,
        reveal=reveal_order(out_sets, tallies, checked.running_order, fmt),
        explanations=explanations,
        disqualified=list(sheet.disqualified),
    )
