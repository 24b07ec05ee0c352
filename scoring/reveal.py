"""The order of the on-air announcements.

Juries (or combined sets) are announced one voting country at a time, in the order of the
votes. The audience points then come as one total per entry, from the last of the jury
board to its leader, so that the lead can still change until the final announcement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from scoring.models import PointSet, PointsValue, RevealStep
from scoring.numbers import Num
from scoring.scoreboard import Tally


def reveal_order(
    sets: Sequence[PointSet],
    tallies: Mapping[str, Tally],
    running_order: Mapping[str, int],
    fmt: Callable[[Num], PointsValue],
) -> list[RevealStep]:
    """Built from the result's own sets, so a jury step shows exactly what its set says."""
    reveal: list[RevealStep] = []
    for s in sets:
        if s.body != "televote":
            reveal.append(
                RevealStep(step=len(reveal) + 1, body=s.body, from_=s.from_, points=s.points)
            )
    if any(s.body == "televote" for s in sets):
        jury_board = sorted(running_order, key=lambda e: (-tallies[e].jury, running_order[e]))
        for entry in reversed(jury_board):
            reveal.append(
                RevealStep(
                    step=len(reveal) + 1,
                    body="televote",
                    to=entry,
                    points={entry: fmt(tallies[entry].televote)},
                )
            )
    return reveal
