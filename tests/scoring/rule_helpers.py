"""Small readers of a scoring result that the rule tests share."""

from __future__ import annotations

ABC = ["A", "B", "C", "D", "E"]


def board(sheet_result: object) -> list[str]:
    return [line.country for line in sheet_result.scoreboard]  # type: ignore[attr-defined]


def sets_of(result: object, body: str) -> dict[str, dict[str, object]]:
    return {s.from_: s.points for s in result.sets if s.body == body}  # type: ignore[attr-defined]
