"""Disqualification (the EBU's rule): a disqualified entry's votes count for no one, and
every set is recomputed without it, so the entries below it move up."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring import SheetError, decode_sheet, score
from tests.scoring.test_properties import SETTINGS, contests

pytestmark = pytest.mark.stores_independent


def _without_by_hand(doc: dict[str, Any], out: str) -> dict[str, Any]:
    """The contest X never entered: no entry, in no juror's ranking, no count for it."""
    votes = []
    for vote in doc["votes"]:
        vote = dict(vote)
        if "jury_rankings" in vote:
            vote["jury_rankings"] = [[e for e in j if e != out] for j in vote["jury_rankings"]]
        if "televote_counts" in vote:
            vote["televote_counts"] = {e: n for e, n in vote["televote_counts"].items()
                                       if e != out}
        votes.append(vote)
    entries = [e for e in doc["entries"] if e["country"] != out]
    return {**doc, "entries": entries, "votes": votes}


@given(data=st.data())
@SETTINGS
def test_disqualifying_an_entry_scores_as_the_contest_without_it(data: st.DrawFn) -> None:
    doc = data.draw(contests(only_raw=True))
    if len(doc["entries"]) < 2:
        return
    out = data.draw(st.sampled_from([e["country"] for e in doc["entries"]]))
    disqualified = score(decode_sheet(msgspec.json.encode({**doc, "disqualified": [out]})))
    never_entered = score(decode_sheet(msgspec.json.encode(_without_by_hand(doc, out))))
    assert disqualified.disqualified == [out]
    assert msgspec.structs.replace(disqualified, disqualified=[]) == never_entered
    assert all(out not in s.points for s in disqualified.sets)
    assert out not in {line.country for line in disqualified.scoreboard}


def _sheet(**extra: Any) -> bytes:
    return msgspec.json.encode({
        "rules": {"points": [12, 10, 8]},
        "entries": [{"country": c, "running_order": i}
                    for i, c in enumerate(["AM", "AZ", "GE", "KZ", "UZ"], start=1)],
        "votes": [
            {"from": "KR", "televote_counts": {"AM": 50, "AZ": 40, "GE": 30, "KZ": 20, "UZ": 1}},
            {"from": "AM", "jury_points": {"AZ": 12, "GE": 10, "KZ": 8}},
        ],
        **extra,
    })


def test_the_entries_below_a_disqualified_entry_move_up_in_every_set() -> None:
    result = score(decode_sheet(_sheet(disqualified=["AZ"])))
    sets = {s.from_: s.points for s in result.sets}
    assert sets["KR"] == {"AM": 12, "GE": 10, "KZ": 8}  # GE, KZ move up; nobody gets AZ's 10
    # a set given only as points: the rest move up, the lowest value goes to no one
    assert sets["AM"] == {"GE": 12, "KZ": 10}
    assert [line.country for line in result.scoreboard] == ["GE", "KZ", "AM", "UZ"]
    assert result.disqualified == ["AZ"]


def test_a_disqualified_country_still_votes() -> None:
    result = score(decode_sheet(_sheet(disqualified=["AM"])))
    assert {s.from_: s.points for s in result.sets}["AM"] == {"AZ": 12, "GE": 10, "KZ": 8}


def test_disqualifying_a_country_that_is_not_an_entry_is_refused() -> None:
    with pytest.raises(SheetError, match=r"disqualified\[0\]"):
        decode_sheet(_sheet(disqualified=["KR"]))


def test_a_result_without_disqualification_does_not_mention_it() -> None:
    assert b"disqualified" not in msgspec.json.encode(score(decode_sheet(_sheet())))
