"""What each audience of the results may see, at each phase of the show.

- *full* (the producer, read tokens): everything, always.
- *public* (viewers, graphics): during the on-air reveal, only the steps announced so
  far; once the reveal is complete, all. Before the reveal, the contest's
  `results_visibility` decides: `live` shows the audience standings and counts,
  `after_close` shows them once the window is closed, `reveal` shows nothing. Live
  standings while the window is open are a stuffer's feedback and a leak on air, so
  hidden means hidden: no scoreboard, no sets, no counts, only the show's state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from fractions import Fraction
from typing import Literal

import msgspec

from scoring import Explanation, Result, RevealStep, ScoreLine
from service.contests.models import Contest
from service.results.marks import ShownSet, ShownStep, shown_sets, shown_steps
from service.seal.models import SealView

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
    #: Each set says whether it is the country's own or a substitute (marks.py).
    sets: list[ShownSet]
    reveal: list[ShownStep]
    last_step: ShownStep | None
    votes: Counts
    #: Void votes per voting country (every country that has any).
    void_votes: dict[str, int]
    explanations: dict[str, list[Explanation]]
    as_of: datetime
    full: bool
    seal: SealView | None = None  # once the ledger is sealed (service/seal/)
    results_visibility: str = "after_close"
    standings_hidden: bool = False  # the public view withholds standings and counts
    closes_at: datetime | None = None  # the scheduled close, for a countdown
    #: The producer's hide-scores mode for the overlay (POST …/display).
    hide_scores: bool = False
    opens_at: datetime | None = None  # the scheduled open, for a countdown to it


def phase_of(contest: Contest, reveal_total: int) -> Phase:
    if contest.revealed == 0:
        return "voting"
    return "final" if contest.revealed >= reveal_total else "reveal"


def full_view(contest: Contest, result: Result, counts: Counts, source: str,
              void_votes: dict[str, int] | None = None) -> ResultsView:
    total = len(result.reveal)
    steps = shown_steps(result, result.reveal)
    shown = steps[: contest.revealed]
    voids = void_votes or {}
    return ResultsView(
        contest=contest.id, name=contest.name, source=source, window=contest.window,
        jury_locked=contest.jury_locked, phase=phase_of(contest, total),
        revealed=min(contest.revealed, total), reveal_total=total,
        scoreboard=result.scoreboard, sets=shown_sets(result.sets, voids), reveal=steps,
        last_step=shown[-1] if shown else None, votes=counts, void_votes=dict(voids),
        explanations=result.explanations, as_of=datetime.now(UTC), full=True,
        results_visibility=contest.results_visibility, closes_at=contest.closes_at,
        hide_scores=contest.hide_scores,
        opens_at=contest.opens_at,
    )


def standings_public(contest: Contest, phase: Phase) -> bool:
    """Whether the public may see the standings before the reveal (phase `voting`)."""
    if phase != "voting" or contest.results_visibility == "live":
        return True
    if contest.results_visibility == "after_close":
        return not voting_open(contest)
    return False  # "reveal": only what the reveal announces


def voting_open(contest: Contest) -> bool:
    """The window is open and its scheduled close (if any) has not passed: the ledger
    takes nothing after `closes_at`, whatever the window state says."""
    closes = contest.closes_ts
    return contest.window == "open" and (closes is None or time.time() <= closes)


def public_view(contest: Contest, result: Result, audience_only: Result | None,
                counts: Counts, source: str, void_votes: dict[str, int] | None = None
                ) -> ResultsView:
    """Hide what the broadcast has not announced yet."""
    view = full_view(contest, result, counts, source, void_votes)
    view.full = False
    if view.phase == "final":
        return view
    if not standings_public(contest, view.phase):
        view.standings_hidden = True
        view.reveal_total = 0  # it grows as ballots and votes arrive: it would tell when
        view.scoreboard, view.sets, view.reveal = [], [], []
        view.votes, view.explanations, view.void_votes = {}, {}, {}
        return view
    if view.phase == "voting":
        standings = audience_only or result
        view.scoreboard = standings.scoreboard
        view.sets = shown_sets(standings.sets, view.void_votes)
        view.explanations, view.reveal = standings.explanations, []
        return view
    shown = view.reveal[: view.revealed]
    view.reveal = shown
    view.scoreboard = partial_scoreboard(result.scoreboard, shown)
    announced = {(s.from_, s.body) for s in shown if s.from_ is not None}
    view.sets = [s for s in view.sets if (s.from_, s.body) in announced]
    view.votes, view.explanations = {}, {}
    return view


def partial_scoreboard(final: list[ScoreLine], shown: Sequence[RevealStep | ShownStep]
                       ) -> list[ScoreLine]:
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
