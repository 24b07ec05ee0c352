"""Bad sheets: one SheetError naming the field, with a clear one-line message."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from scoring import Rules, SheetError, Weights, decode_sheet, score, validate_rules

from .conftest import make_sheet

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

ENTRIES = ["A", "B", "C"]


def error_of(entries: Any, votes: list[dict[str, Any]], **rules: Any) -> SheetError:
    with pytest.raises(SheetError) as info:
        make_sheet(entries, votes, **rules)
    err = info.value
    assert str(err) == f"{err.field}: {err.message}" and "\n" not in str(err)
    return err


@pytest.mark.parametrize(
    ("ranking", "field", "words"),
    [
        (["B", "C", "A"], "votes[0].jury_rankings[1][2]", "own country"),
        (["B", "Z"], "votes[0].jury_rankings[1][1]", "unknown entry 'Z'"),
        (["B", "B"], "votes[0].jury_rankings[1][1]", "ranked twice"),
        (["C"], "votes[0].jury_rankings[1]", "incomplete ranking: missing B"),
    ],
)
def test_invalid_jury_rankings_are_rejected_with_the_field_path(
    ranking: list[str], field: str, words: str
) -> None:
    err = error_of(ENTRIES, [{"from": "A", "jury_rankings": [["B", "C"], ranking]}])
    assert err.field == field
    assert words in err.message


def test_an_empty_list_of_juror_rankings_is_rejected() -> None:
    err = error_of(ENTRIES, [{"from": "A", "jury_rankings": []}])
    assert err.field == "votes[0].jury_rankings"


@pytest.mark.parametrize(
    ("vote", "field", "words"),
    [
        ({"jury_points": {"B": 9}}, "votes[0].jury_points.B", "not a value of the points scale"),
        ({"jury_points": {"B": 12, "C": 12}}, "votes[0].jury_points.C", "more often"),
        ({"jury_points": {"A": 12}}, "votes[0].jury_points.A", "itself"),
        ({"televote_points": {"X": 1}}, "votes[0].televote_points.X", "unknown entry"),
        ({"televote_counts": {"B": -1}}, "votes[0].televote_counts.B", "negative"),
        ({"televote_counts": {"A": 5}}, "votes[0].televote_counts.A", "itself"),
        ({"jury_points": {}, "jury_rankings": [["B", "C"]]}, "votes[0].jury_points", "not both"),
        ({"televote_points": {}, "televote_counts": {}}, "votes[0].televote_points", "not both"),
        ({"substitute_from": []}, "votes[0].substitute_from", "at least one"),
        ({"substitute_from": ["A"]}, "votes[0].substitute_from[0]", "itself"),
        ({"substitute_from": ["Q"]}, "votes[0].substitute_from[0]", "not a voting country"),
    ],
)
def test_invalid_vote_fields_name_the_field(vote: dict[str, Any], field: str, words: str) -> None:
    err = error_of(ENTRIES, [{"from": "A", **vote}])
    assert (err.field, words in err.message) == (field, True), err.message


def test_a_voting_country_may_vote_only_once() -> None:
    err = error_of(ENTRIES, [{"from": "X"}, {"from": "X"}])
    assert err.field == "votes[1].from" and "votes[0]" in err.message


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ({"A": 1, "B": 1}, "entries[1].running_order"),
        ({"A": 0}, "entries[0].running_order"),
        ({}, "entries"),
    ],
)
def test_invalid_entries_name_the_field(entries: dict[str, int], field: str) -> None:
    assert error_of(entries, []).field == field


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"points": []}, "rules.points"),
        ({"points": [1, 2]}, "rules.points[1]"),
        ({"points": [3, 0]}, "rules.points[1]"),
        ({"jury_method": "median"}, "rules.jury_method"),
        ({"combination": "mixed"}, "rules.combination"),
        ({"weights": {"jury": -1}}, "rules.weights.jury"),
        ({"weights": {"televote": "half"}}, "rules.weights.televote"),
        ({"weights": {"jury": 0.5}}, "rules.weights.jury"),
        ({"country_weights": {"CN": {"jury": "-1/2"}}}, "rules.country_weights.CN.jury"),
        ({"tiebreak": "fifa"}, "rules.tiebreak"),
        ({"tiebreak": ["coin_toss"]}, "rules.tiebreak[0]"),
        ({"colour": "red"}, "rules.colour"),
    ],
)
def test_invalid_rules_name_the_field(rules: dict[str, Any], field: str) -> None:
    assert error_of(ENTRIES, [], **rules).field == field


def test_validate_rules_checks_a_rules_object_beyond_its_types() -> None:
    with pytest.raises(SheetError) as info:
        validate_rules(Rules(points=[10, 12]))
    assert info.value.field == "rules.points[1]"
    with pytest.raises(SheetError) as info:
        validate_rules(Rules(weights=Weights(jury="1/0")))
    assert info.value.field == "rules.weights.jury" and "not an exact number" in info.value.message


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"{", "sheet", "not valid JSON"),
        (b"[]", "sheet", "Expected `object`"),
        (b"{}", "entries", "missing required field"),
        (b'{"entries": [{"country": "A"}]}', "entries[0].running_order", "missing"),
        (
            b'{"entries": [{"country": "A", "running_order": "1"}]}',
            "entries[0].running_order",
            "Expected `int`",
        ),
        (b'{"entries": [], "extra": 1}', "extra", "unknown field"),
        (
            b'{"entries": [{"country": "A", "running_order": 1}], "votes": [{"from": "B", '
            b'"jury_rankings": [["A", 3]]}]}',
            "votes[0].jury_rankings[0][1]",
            "Expected `str`",
        ),
        (
            b'{"entries": [{"country": "A", "running_order": 1}], "votes": [{"jury_points": {}}]}',
            "votes[0].from",
            "missing required field",
        ),
    ],
)
def test_decode_errors_name_the_field(data: bytes, field: str, words: str) -> None:
    with pytest.raises(SheetError) as info:
        decode_sheet(data)
    assert info.value.field == field
    assert words in info.value.message


def test_an_invalid_body_without_any_usable_substitute_reports_the_original_problem() -> None:
    err = error_of(
        ENTRIES,
        [{"from": "A", "jury_rankings": [["B"]], "substitute_from": ["X"]}, {"from": "X"}],
    )
    assert err.field == "votes[0].jury_rankings[0]"


def test_a_missing_body_without_any_usable_substitute_stays_missing() -> None:
    sheet = make_sheet(
        ENTRIES,
        [{"from": "A", "substitute_from": ["X"]}, {"from": "X", "jury_points": {"B": 12}}],
    )
    assert [(s.from_, s.body) for s in score(sheet).sets] == [("A", "jury"), ("X", "jury")]


def test_sheet_errors_survive_pickling_and_keep_their_fields() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(SheetError("votes[1].from", "bad")))
    assert (err.field, err.message, str(err)) == ("votes[1].from", "bad", "votes[1].from: bad")


def test_score_validates_sheets_built_in_code() -> None:
    from scoring import CountryVote, Entry, Sheet

    sheet = Sheet(
        entries=[Entry(country="A", running_order=1), Entry(country="B", running_order=2)],
        votes=[CountryVote(from_="A", jury_rankings=[["A", "B"]])],
    )
    with pytest.raises(SheetError) as info:
        score(sheet)
    assert info.value.field == "votes[0].jury_rankings[0][0]"
    assert msgspec.json.encode(sheet.votes[0]) == b'{"from":"A","jury_rankings":[["A","B"]]}'
