"""What a set or a reveal step says about where its points came from.

A country whose jury (or audience) did not give a valid verdict gets a *substitute*
result, aggregated from other countries (docs/scoring.md). On air that must never sound
like the country's own vote: every set and every reveal step the API shows says whether
it is `own` or `substitute`, and which voting countries' substitutes it holds, so the
console, the overlay and the presenter's script can say "Armenia's jury — substitute
result". Void votes (removed by the producer after an integrity check) are counted per
voting country, so a televote set can say how many of its votes were struck out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Literal

import msgspec

from scoring import PointSet, Result, RevealStep
from scoring.models import Body, PointsValue

Origin = Literal["own", "substitute", "mixed"]


class ShownSet(msgspec.Struct, kw_only=True):
    """A voting country's set as the API shows it (scoring's `PointSet` plus marks)."""

    from_: str = msgspec.field(name="from")
    body: Body
    #: Best first. Weighted points.
    points: dict[str, PointsValue]
    #: True when the set is not the country's own verdict (always present).
    substitute: bool
    origin: Origin
    #: Why a substitute was used, and from which countries ("" for an own set).
    note: str = ""
    #: Votes from this voting country that were voided (televote sets; 0 for juries).
    void_votes: int = 0


class ShownStep(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A reveal step as the API shows it (scoring's `RevealStep` plus marks).

    A jury (or combined) step is one country's set: `substitute` says whether that set
    is a substitute result. A televote step is one entry's audience total:
    `substitutes` lists the voting countries whose *substitute* televote sets gave it
    points, `substitute` is true when there is any, and `origin` is `mixed` when own
    sets gave it points too (`substitute` when they all were substitutes)."""

    step: int
    body: Body
    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None
    points: dict[str, PointsValue] = msgspec.field(default_factory=dict)
    substitute: bool
    origin: Origin
    substitutes: list[str]


def best_first(points: Mapping[str, PointsValue]) -> dict[str, PointsValue]:
    """Points in descending order. A frozen result comes back from PostgreSQL's jsonb,
    which keeps no key order, so the order of the scoring result is restored here."""
    return dict(sorted(points.items(), key=lambda item: -Fraction(item[1])))


def shown_sets(sets: Sequence[PointSet], void_votes: Mapping[str, int]) -> list[ShownSet]:
    return [
        ShownSet(from_=s.from_, body=s.body, points=best_first(s.points),
                 substitute=s.substitute,
                 origin="substitute" if s.substitute else "own", note=s.note,
                 void_votes=void_votes.get(s.from_, 0) if s.body != "jury" else 0)
        for s in sets
    ]


def shown_steps(result: Result, steps: Sequence[RevealStep]) -> list[ShownStep]:
    """`steps` (some of `result.reveal`) with the marks of `result`'s sets."""
    substitute_sets = {(s.from_, s.body) for s in result.sets if s.substitute}
    televote = [s for s in result.sets if s.body == "televote"]
    shown: list[ShownStep] = []
    for step in steps:
        origin: Origin = "own"
        if step.body == "televote":
            to = step.to or next(iter(step.points), "")
            givers = [s for s in televote if s.points.get(to) not in (None, 0, "0")]
            marked = sorted(s.from_ for s in givers if s.substitute)
            if marked:
                origin = "substitute" if len(marked) == len(givers) else "mixed"
        elif step.from_ is not None and (step.from_, step.body) in substitute_sets:
            marked, origin = [step.from_], "substitute"
        else:
            marked = []
        shown.append(ShownStep(step=step.step, body=step.body, from_=step.from_, to=step.to,
                               points=best_first(step.points), substitute=bool(marked),
                               origin=origin,
                               substitutes=marked))
    return shown
