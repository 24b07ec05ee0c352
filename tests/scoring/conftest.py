"""Shared helpers for the scoring tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from scoring import Sheet, decode_sheet

EUROVISION = Path("/work/shared/data/eurovision")


@pytest.fixture(scope="session")
def eurovision_dir() -> Path:
    if not (EUROVISION / "votes.csv").exists():
        pytest.skip("the Eurovision data set is not available")
    return EUROVISION


def make_sheet(
    entries: list[str] | dict[str, int], votes: list[dict[str, Any]], **rules: Any
) -> Sheet:
    """A decoded, validated sheet: entries as codes in running order (or code → order)."""
    if isinstance(entries, list):
        entries = {c: i for i, c in enumerate(entries, start=1)}
    doc = {
        "rules": rules,
        "entries": [{"country": c, "running_order": o} for c, o in entries.items()],
        "votes": votes,
    }
    return decode_sheet(msgspec.json.encode(doc))
