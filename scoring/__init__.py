"""SilkVote scoring: pure, deterministic contest rules (no I/O).

The library turns a result *sheet* (rules, entries, every country's votes) into a
*result* (sets, scoreboard, reveal order, explanations) with exact arithmetic.
The input and output contract is ``docs/scoring-io.md``; the rules in plain language are in
``docs/scoring.md``.
"""

from __future__ import annotations

import msgspec

from scoring.bodies import jury_set
from scoring.decode import decode_sheet
from scoring.engine import score
from scoring.errors import SheetError
from scoring.models import (
    DEFAULT_POINTS,
    EUROVISION_TIEBREAK,
    CountryVote,
    Entry,
    Explanation,
    PointSet,
    Result,
    RevealStep,
    Rules,
    ScoreLine,
    Sheet,
    Weights,
)
from scoring.numbers import parse_points
from scoring.rules import validate_rules
from scoring.validate import validate_sheet


def result_to_json(result: Result) -> bytes:
    """The result as contract JSON (compact, UTF-8)."""
    return msgspec.json.encode(result)


def sheet_to_json(sheet: Sheet) -> bytes:
    """A sheet as JSON (for tools that build sheets, e.g. the Eurovision CSV converter)."""
    return msgspec.json.encode(sheet)


__all__ = [
    "DEFAULT_POINTS",
    "EUROVISION_TIEBREAK",
    "CountryVote",
    "Entry",
    "Explanation",
    "PointSet",
    "Result",
    "RevealStep",
    "Rules",
    "ScoreLine",
    "Sheet",
    "SheetError",
    "Weights",
    "decode_sheet",
    "jury_set",
    "parse_points",
    "result_to_json",
    "score",
    "sheet_to_json",
    "validate_rules",
    "validate_sheet",
]
