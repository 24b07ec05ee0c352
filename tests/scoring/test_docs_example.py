"""The worked example of docs/scoring.md stays true: its result file is the real output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scoring import decode_sheet, result_to_json, score

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLES = DOCS / "examples"


def marked_json(page: Path, mark: str) -> object:
    """The JSON block that follows ``<!-- example: mark -->`` on a docs page."""
    found = re.search(
        rf"<!-- example: {mark} -->\s*```json\n(.*?)\n```", page.read_text(), re.DOTALL
    )
    assert found is not None, f"no '{mark}' example in {page.name}"
    return json.loads(found.group(1))


def test_the_silk_way_star_result_file_is_what_the_engine_computes() -> None:
    sheet = decode_sheet((EXAMPLES / "silk-way-star.sheet.json").read_bytes())
    computed = json.loads(result_to_json(score(sheet)))
    assert json.loads((EXAMPLES / "silk-way-star.result.json").read_text()) == computed


def test_the_silk_way_star_example_shows_what_the_docs_say() -> None:
    sheet = decode_sheet((EXAMPLES / "silk-way-star.sheet.json").read_bytes())
    result = score(sheet)
    assert [e.country for e in sheet.entries] == [
        "AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR",
    ]  # fmt: skip
    tm = next(s for s in result.sets if s.from_ == "TM" and s.body == "jury")
    assert tm.substitute and tm.points == {
        "KZ": 12, "KR": 10, "GE": 8, "MN": 7, "IN": 6, "AM": 5, "UZ": 4, "CN": 3, "AZ": 2, "KG": 1,
    }  # fmt: skip
    assert [(s.from_, s.body) for s in result.sets if s.from_ == "WW"] == [("WW", "televote")]
    assert [line.country for line in result.scoreboard[:2]] == ["KR", "KZ"]
    televote_order = [step.to for step in result.reveal if step.body == "televote"]
    assert televote_order[-2:] == ["KR", "KZ"]


def test_the_example_of_the_io_contract_is_what_the_engine_computes() -> None:
    page = DOCS / "scoring-io.md"
    sheet = decode_sheet(json.dumps(marked_json(page, "sheet")))
    assert marked_json(page, "result") == json.loads(result_to_json(score(sheet)))
