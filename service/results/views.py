"""What each audience of the results may see, at each phase of the show.

- *full* (the producer): everything, always.
- *public* (viewers, graphics): while voting, the live audience standings; during the
  on-air reveal, only the steps announced so far; once the reveal is complete, all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import Literal

import msgspec

from scoring import Explanation, PointSet, Result, RevealStep, ScoreLine
from service.contests.models import Contest

Phase = Literal["voting", "reveal", "final"]
Counts = dict[str, dict[str, int]]


class ResultsView(msgspec.Struct, kw_only=True):
    """The results object of docs/api.md plus the show's state."""

    contest: str
    name: str
    source: str
    window: str
    jury_locked: bool
    phase: Phase
    revealed: int
    reveal_total: int
    scoreboard: list[ScoreLine]
    sets: list[PointSet]
    reveal: list[RevealStep]
    last_step: RevealStep | None
    votes: Counts
    explanations: dict[str, list[Explanation]]
    as_of: datetime
    full: bool


def phase_of(contest: Contest, reveal_total: int) -> Phase:
    if contest.revealed == 0:
        return "voting"
    return "final" if contest.revealed >= reveal_total else "reveal"


def full_view(contest: Contest, result: Result, counts: Counts, source: str) -> ResultsView:
    total = len(result.reveal)
    shown = result.reveal[: contest.revealed]
    return ResultsView(
        contest=contest.id, name=contest.name, source=source, window=contest.window,
        jury_locked=contest.jury_locked, phase=phase_of(contest, total),
        revealed=min(contest.revealed, total), reveal_total=total,
        scoreboard=result.scoreboard, sets=result.sets, reveal=result.reveal,
        last_step=shown[-1] if shown else None, votes=counts,
        explanations=result.explanations, as_of=datetime.now(UTC), full=True,
    )


def public_view(contest: Contest, result: Result, audience_only: Result | None,
                counts: Counts, source: str) -> ResultsView:
    """Hide what the broadcast has not announced yet."""
    view = full_view(contest, result, counts, source)
    view.full = False
    if view.phase == "final":
        return view
    if view.phase == "voting":
        standings = audience_only or result
        view.scoreboard, view.sets = standings.scoreboard, standings.sets
        view.explanations, view.reveal = standings.explanations, []
        return view
    shown = result.reveal[: view.revealed]
    view.reveal = shown
    view.scoreboard = partial_scoreboard(result.scoreboard, shown)
    announced = {(s.from_, s.body) for s in shown if s.from_ is not None}
    view.sets = [s for s in result.sets if (s.from_, s.body) in announced]
    view.votes, view.explanations = {}, {}
    return view


def partial_scoreboard(final: list[ScoreLine], shown: list[RevealStep]) -> list[ScoreLine]:
    """Standings after the announced steps only: totals so far, earlier performance first
    on equal points (the full tie-break chain applies once everything is announced)."""
    jury: dict[str, Fraction] = {line.country: Fraction(0) for line in final}
    televote: dict[str, Fraction] = dict(jury)
    as_int = all(isinstance(line.total, int) for line in final)
    for step in shown:
        bucket = televote if step.body == "televote" else jury
        for country, points in step.points.items():
            bucket[country] += Fraction(points)
    order = sorted(final, key=lambda line: (-(jury[line.country] + televote[line.country]),
                                            line.running_order))
    return [
        ScoreLine(country=line.country, place=place, running_order=line.running_order,
                  total=_points(jury[line.country] + televote[line.country], as_int),
                  jury=_points(jury[line.country], as_int),
                  televote=_points(televote[line.country], as_int))
        for place, line in enumerate(order, start=1)
    ]


def _points(value: Fraction, as_int: bool) -> int | str:
    return value.numerator if as_int and value.denominator == 1 else str(value)
