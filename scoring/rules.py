"""The rules of a contest, checked beyond their types, and the weights they give each voter.

The service stores rules on their own (long before any vote exists), so they are checked
here, apart from any sheet; the sheet checks in :mod:`scoring.validate` build on this.
"""

from __future__ import annotations

from fractions import Fraction
from typing import get_args

from scoring.errors import SheetError
from scoring.models import Rules, TiebreakCriterion
from scoring.numbers import parse_weight


def effective_weights(
    rules: Rules, country: str, base: tuple[Fraction, Fraction] | None = None
) -> tuple[Fraction, Fraction]:
    """(jury, televote) multipliers for one voting country: global × per-country.
    ``base`` may pass the already parsed global weights (a sheet has many voters)."""
    if base is None:
        base = (
            parse_weight(rules.weights.jury, "rules.weights.jury"),
            parse_weight(rules.weights.televote, "rules.weights.televote"),
        )
    jury, televote = base
    per = rules.country_weights.get(country)
    if per is not None:
        jury *= parse_weight(per.jury, f"rules.country_weights.{country}.jury")
        televote *= parse_weight(per.televote, f"rules.country_weights.{country}.televote")
    return jury, televote


def integral_weights(rules: Rules) -> bool:
    """Whether every weight is an integer: then a result can keep JSON integers."""
    values = [rules.weights.jury, rules.weights.televote]
    for per in rules.country_weights.values():
        values += [per.jury, per.televote]
    return all(parse_weight(v, "rules.weights").denominator == 1 for v in values)


def validate_rules(rules: Rules) -> None:
    """Check the rules beyond their types. Raises :class:`SheetError` naming the field."""
    if not isinstance(rules, Rules):
        raise SheetError("rules", "must be a Rules object")
    if not rules.points:
        raise SheetError("rules.points", "the points scale must have at least one value")
    previous: int | None = None
    for i, value in enumerate(rules.points):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise SheetError(f"rules.points[{i}]", f"must be a positive integer (got {value!r})")
        if previous is not None and value > previous:
            raise SheetError(
                f"rules.points[{i}]", f"the scale is best first: {value} follows {previous}"
            )
        previous = value
    if rules.jury_method not in ("exponential", "average_rank"):
        raise SheetError("rules.jury_method", f"unknown method {rules.jury_method!r}")
    if rules.combination not in ("split", "combined"):
        raise SheetError("rules.combination", f"unknown combination {rules.combination!r}")
    parse_weight(rules.weights.jury, "rules.weights.jury")
    parse_weight(rules.weights.televote, "rules.weights.televote")
    for country, per in rules.country_weights.items():
        if not country:
            raise SheetError("rules.country_weights", "country codes must not be empty")
        parse_weight(per.jury, f"rules.country_weights.{country}.jury")
        parse_weight(per.televote, f"rules.country_weights.{country}.televote")
    if isinstance(rules.tiebreak, str):
        if rules.tiebreak != "eurovision":
            raise SheetError("rules.tiebreak", f"unknown chain {rules.tiebreak!r}")
    else:
        known = set(get_args(TiebreakCriterion))
        for i, criterion in enumerate(rules.tiebreak):
            if criterion not in known:
                raise SheetError(f"rules.tiebreak[{i}]", f"unknown criterion {criterion!r}")
