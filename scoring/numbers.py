"""Exact numbers: weights as fractions, and how points are written in a result."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import cast

from scoring.errors import SheetError
from scoring.models import PointsValue

#: Points while scoring: plain ints while every weight is whole (ints add fastest), else
#: fractions, so no rounding ever happens before the result is written.
Num = int | Fraction


def exact(value: Fraction) -> Num:
    """A fraction that is whole becomes an int, keeping integer contests on ints."""
    return value.numerator if value.denominator == 1 else value


def parse_weight(value: int | str, field: str) -> Fraction:
    """A weight as an exact fraction: a non-negative int, or a string like ``"1/2"``."""
    if isinstance(value, bool):  # pragma: no cover - msgspec never produces a bool here
        raise SheetError(field, "must be a non-negative integer or a fraction string")
    if isinstance(value, int):
        result = Fraction(value)
    else:
        try:
            result = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise SheetError(
                field, f'{value!r} is not an exact number (use an integer or a string like "1/2")'
            ) from None
    if result < 0:
        raise SheetError(field, f"must not be negative (got {value!r})")
    return result


def format_points(value: int | Fraction, as_int: bool) -> PointsValue:
    """``int`` when the result uses integer points, else ``"a/b"`` (``"12"`` if whole)."""
    if isinstance(value, int):
        return value if as_int else str(value)
    if as_int:
        if value.denominator != 1:  # pragma: no cover - guarded by the integral-weights rule
            raise ValueError(f"non-integral points {value} in an integer result")
        return value.numerator
    return str(value)


def points_writer(as_int: bool) -> Callable[[Num], PointsValue]:
    """How a result writes its points: ints as they are, else exact fraction strings."""
    return _already_int if as_int else _fraction_string


def _already_int(value: Num) -> PointsValue:
    # an integer result has only whole weights, so every value is an int (see exact)
    return cast(int, value)


def _fraction_string(value: Num) -> PointsValue:
    return format_points(value, False)


def parse_points(value: PointsValue) -> Fraction:
    """The inverse of :func:`format_points`, for consumers of a result."""
    return Fraction(value)
