"""Exact numbers: weights as fractions, and how points are written in a result."""

from __future__ import annotations

from fractions import Fraction

from scoring.errors import SheetError
from scoring.models import PointsValue


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


def parse_points(value: PointsValue) -> Fraction:
    """The inverse of :func:`format_points`, for consumers of a result."""
    return Fraction(value)
