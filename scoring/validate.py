"""Decoding sheets and checking rules; every problem becomes one :class:`SheetError`."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import get_args

import msgspec

from scoring.errors import SheetError
from scoring.models import Rules, Sheet, TiebreakCriterion
from scoring.numbers import parse_weight

_AT = re.compile(r"^(?P<msg>.*?) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_FIELD_NAMED = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]*)`")


def _path(raw: str) -> str:
    """msgspec's ``$.votes[3].from`` → ``votes[3].from``; the root is ``sheet``."""
    raw = raw.lstrip(".")
    return raw


def translate_validation_error(exc: msgspec.MsgspecError, root: str = "sheet") -> SheetError:
    text = str(exc)
    match = _AT.match(text)
    message, path = (match.group("msg"), _path(match.group("path"))) if match else (text, "")
    named = _FIELD_NAMED.match(message)
    if named:
        name = named.group("name")
        path = f"{path}.{name}" if path else name
    if not path:
        path = root
    elif root != "sheet":
        path = f"{root}.{path}" if not path.startswith("[") else f"{root}{path}"
    return SheetError(path, message)


def decode_sheet(data: bytes | str) -> Sheet:
    """Decode and fully validate a sheet (JSON text). Raises :class:`SheetError`."""
    try:
        sheet = msgspec.json.decode(data, type=Sheet)
    except msgspec.ValidationError as exc:
        raise translate_validation_error(exc) from None
    except msgspec.DecodeError as exc:
        raise SheetError("sheet", f"not valid JSON: {exc}") from None
    from scoring.engine import validate_sheet  # engine imports this module

    validate_sheet(sheet)
    return sheet


def effective_weights(
    rules: Rules, country: str, base: tuple[Fraction, Fraction] | None = None
) -> tuple[Fraction, Fraction]:
    """(jury, televote) multipliers for one voting country: global × per-country.
    ``base`` may pass the already parsed global weights."""
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
    """Whether every weight is an integer (then a result's points are ints)."""
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
