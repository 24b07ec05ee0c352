"""The scoring models: the sheet (input) and the result (output), as msgspec Structs.

Input structs forbid unknown fields so that a typo in a sheet is reported, not ignored.
Output structs may grow fields (the contract allows additions, never changes of meaning).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

DEFAULT_POINTS: tuple[int, ...] = (12, 10, 8, 7, 6, 5, 4, 3, 2, 1)

JuryMethod = Literal["exponential", "average_rank"]
Combination = Literal["split", "combined"]
TiebreakCriterion = Literal[
    "televote_points",
    "televote_countries",
    "top_scores",
    "televote_top_scores",
    "jury_points",
    "running_order",
]
Body = Literal["jury", "televote", "combined"]

#: What the named chain ``"eurovision"`` means.
EUROVISION_TIEBREAK: tuple[TiebreakCriterion, ...] = (
    "televote_points",
    "televote_countries",
    "top_scores",
    "running_order",
)

#: A points value in a result: an ``int`` when every weight is an integer, else a string
#: holding an exact fraction (``"21/2"``, or ``"12"`` for a whole number).
PointsValue = int | str


#: A string of the rules with no control characters (C0, DEL, C1): a NUL cannot be
#: stored and a newline forges the log lines and exports it reaches. Written for
#: Python's ``re`` and ECMAScript alike (JSON Schema readers).
PlainText = Annotated[str, msgspec.Meta(pattern=r"^(?![\s\S]*[\x00-\x1f\x7f-\x9f])")]


def _default_points() -> list[int]:
    return list(DEFAULT_POINTS)


class Weights(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A multiplier per body: a non-negative integer, or a string holding an exact
    non-negative number (``"1/2"``, ``"0.25"``). Floats are refused on purpose."""

    jury: int | PlainText = 1
    televote: int | PlainText = 1


class Rules(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    points: list[int] = msgspec.field(default_factory=_default_points)
    jury_method: JuryMethod = "exponential"
    combination: Combination = "split"
    weights: Weights = msgspec.field(default_factory=Weights)
    country_weights: dict[PlainText, Weights] = msgspec.field(default_factory=dict)
    tiebreak: Literal["eurovision"] | list[TiebreakCriterion] = "eurovision"


class Entry(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    country: str
    running_order: int
    artist: str = ""
    song: str = ""


class CountryVote(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """One voting country's votes. Every body is optional (audience-only voters such as
    ``WW`` give no jury). ``substitute_from`` names the countries whose sets form a
    substitute for a body that is missing or invalid (see docs/scoring.md)."""

    from_: str = msgspec.field(name="from")
    jury_rankings: list[list[str]] | None = None
    jury_points: dict[str, int] | None = None
    televote_counts: dict[str, int] | None = None
    televote_points: dict[str, int] | None = None
    substitute_from: list[str] | None = None


class Sheet(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rules: Rules = msgspec.field(default_factory=Rules)
    entries: list[Entry]
    votes: list[CountryVote] = msgspec.field(default_factory=list)
    #: Entries disqualified after the vote: their votes count for no one and every set is
    #: recomputed without them (scoring/disqualify.py, docs/scoring.md).
    disqualified: list[PlainText] = msgspec.field(default_factory=list)


# ---------------------------------------------------------------------------- result


class ScoreLine(msgspec.Struct, kw_only=True, omit_defaults=True):
    country: str
    place: int
    total: PointsValue
    jury: PointsValue
    televote: PointsValue
    running_order: int
    #: Only in ``combined`` results: the points of the combined sets (equal to ``total``).
    combined: PointsValue | None = None


class PointSet(msgspec.Struct, kw_only=True, omit_defaults=True):
    from_: str = msgspec.field(name="from")
    body: Body
    #: Best first. Weighted points (raw scale value × the body's weight).
    points: dict[str, PointsValue]
    #: True when this set is a substitute result (``substitute_from``).
    substitute: bool = False
    #: Why a substitute was used (the problem with the country's own body), if any.
    note: str = ""


class RevealStep(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One announcement. Jury (or combined) steps carry ``from``: the voting country and
    its whole set. Televote steps carry ``to``: the entry whose televote total is
    announced, and ``points`` is ``{to: total}`` so every step has the same shape."""

    step: int
    body: Body
    from_: str | None = msgspec.field(default=None, name="from")
    to: str | None = None
    points: dict[str, PointsValue] = msgspec.field(default_factory=dict)


class Explanation(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One line of "who voted for us": ``from`` gave ``points`` from ``body``;
    ``rank`` is the entry's position in that set (1 = the set's top score)."""

    from_: str = msgspec.field(name="from")
    body: Body
    points: PointsValue
    rank: int
    substitute: bool = False


class Result(msgspec.Struct, kw_only=True, omit_defaults=True):
    scoreboard: list[ScoreLine]
    sets: list[PointSet]
    reveal: list[RevealStep]
    #: Per entry country, in the order of ``sets``: every non-zero award it received.
    explanations: dict[str, list[Explanation]] = msgspec.field(default_factory=dict)
    #: The sheet's disqualified entries (in no set, no scoreboard line); left out when none.
    disqualified: list[str] = msgspec.field(default_factory=list)
