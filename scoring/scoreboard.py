"""The scoreboard: totals per entry, and the tie-break chain that gives every entry its own
place (a live show cannot announce a shared place).

The tallies keep what the tie-breaks need (televote points, how many audiences gave
points, how often each scale value was received) while the sets are added up, so that
ordering the board never walks the sets again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from scoring.models import EUROVISION_TIEBREAK, Body, PointsValue, ScoreLine, TiebreakCriterion
from scoring.numbers import Num
from scoring.validate import CheckedSheet


@dataclass
class Tally:
    jury: Num = 0
    televote: Num = 0
    combined: Num = 0
    televote_countries: int = 0
    top: dict[int, int] = field(default_factory=dict)  # raw scale value -> times received
    televote_top: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> Num:
        return self.jury + self.televote + self.combined

    def add(self, body: Body, raw: int, value: Num) -> None:
        """Count one award: ``raw`` scale points, worth ``value`` after the weight."""
        if body == "jury":
            self.jury += value
        elif body == "televote":
            self.televote += value
            self.televote_top[raw] = self.televote_top.get(raw, 0) + 1
            if value > 0:
                self.televote_countries += 1
        else:
            self.combined += value
        self.top[raw] = self.top.get(raw, 0) + 1


def _criterion(
    name: TiebreakCriterion, tally: Tally, running_order: int, values: Sequence[int]
) -> tuple[Num, ...]:
    """A sort key part: smaller sorts first (i.e. "more wins" is negated)."""
    if name == "televote_points":
        return (-tally.televote,)
    if name == "televote_countries":
        return (-tally.televote_countries,)
    if name == "top_scores":
        return tuple(-tally.top.get(v, 0) for v in values)
    if name == "televote_top_scores":
        return tuple(-tally.televote_top.get(v, 0) for v in values)
    if name == "jury_points":
        return (-tally.jury,)
    return (running_order,)


def scoreboard(
    sheet: CheckedSheet, tallies: dict[str, Tally], fmt: Callable[[Num], PointsValue]
) -> list[ScoreLine]:
    """Entries by total, then the rules' tie-break chain; the running order (and, past it,
    the country code) always closes the chain so that places are 1..n without gaps."""
    rules = sheet.rules
    chain: Sequence[TiebreakCriterion] = (
        EUROVISION_TIEBREAK if rules.tiebreak == "eurovision" else rules.tiebreak
    )
    values = sorted(set(sheet.scale), reverse=True)

    def key(entry: str) -> tuple[object, ...]:
        tally, ro = tallies[entry], sheet.running_order[entry]
        parts: list[object] = [-tally.total]
        for name in chain:
            parts.extend(_criterion(name, tally, ro, values))
        parts.extend((ro, entry))
        return tuple(parts)

    combined = rules.combination == "combined"
    return [
        ScoreLine(
            country=e,
            place=i,
            total=fmt(tallies[e].total),
            jury=fmt(tallies[e].jury),
            televote=fmt(tallies[e].televote),
            running_order=sheet.running_order[e],
            combined=fmt(tallies[e].combined) if combined else None,
        )
        for i, e in enumerate(sorted(sheet.running_order, key=key), start=1)
    ]
