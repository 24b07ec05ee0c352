"""Unit tests: each rule of docs/scoring-io.md, one behaviour per test — combined mode,
weights, substitutes, the reveal and the result JSON."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from scoring import Rules, Weights, result_to_json, score, validate_rules
from scoring.rules import effective_weights

from .conftest import make_sheet

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass


# ------------------------------------------------------------------ combined mode


def test_combined_merges_jury_and_televote_ranks_and_awards_one_set() -> None:
    sheet = make_sheet(
        ["A", "B", "C", "D"],
        [
            {
                "from": "X",
                "jury_rankings": [["A", "B", "C", "D"]],
                "televote_counts": {"D": 40, "C": 30, "B": 20, "A": 10},
            }
        ],
        combination="combined",
        points=[3, 2, 1],
    )
    result = score(sheet)
    assert [s.body for s in result.sets] == ["combined"]
    # rank sums: A 1+4, B 2+3, C 3+2, D 4+1 -> all 5: televote rank decides
    assert list(result.sets[0].points.items()) == [("D", 3), ("C", 2), ("B", 1)]
    line = result.scoreboard[0]
    assert (line.country, line.total, line.combined, line.jury, line.televote) == ("D", 3, 3, 0, 0)
    assert [step.body for step in result.reveal] == ["combined"]
    assert b'"body":"combined"' in result_to_json(result)


def test_combined_weights_weight_the_ranks() -> None:
    votes = [
        {
            "from": "X",
            "jury_rankings": [["A", "B", "C"]],
            "televote_counts": {"C": 9, "B": 5, "A": 1},
        }
    ]
    jury_heavy = make_sheet(
        ["A", "B", "C"],
        votes,
        combination="combined",
        points=[1],
        weights={"jury": 3, "televote": 1},
    )
    assert list(score(jury_heavy).sets[0].points) == ["A"]
    tele_heavy = make_sheet(
        ["A", "B", "C"],
        votes,
        combination="combined",
        points=[1],
        weights={"jury": 1, "televote": "3/2"},
    )
    assert list(score(tele_heavy).sets[0].points) == ["C"]
    assert score(tele_heavy).sets[0].points == {"C": 1}  # combined points stay integers


# ------------------------------------------------------------------ weights


def test_weights_multiply_set_points_and_fractions_stay_exact_strings() -> None:
    votes = [{"from": "X", "jury_points": {"A": 12, "B": 1}, "televote_points": {"B": 12}}]
    doubled = score(make_sheet(["A", "B"], votes, weights={"jury": 2, "televote": 1}))
    assert [(line.country, line.total) for line in doubled.scoreboard] == [("A", 24), ("B", 14)]
    halved = score(make_sheet(["A", "B"], votes, weights={"jury": "1/2", "televote": 1}))
    assert [(line.country, line.total, line.jury) for line in halved.scoreboard] == [
        ("B", "25/2", "1/2"),
        ("A", "6", "6"),
    ]
    assert halved.sets[0].points == {"A": "6", "B": "1/2"}


def test_country_weights_multiply_the_global_weights_for_that_country() -> None:
    votes = [
        {"from": "X", "televote_points": {"A": 12}},
        {"from": "Y", "televote_points": {"B": 12}},
    ]
    result = score(
        make_sheet(
            ["A", "B"],
            votes,
            weights={"jury": 1, "televote": 2},
            country_weights={"Y": {"televote": "1/4"}},
        )
    )
    assert [(line.country, line.total) for line in result.scoreboard] == [("A", "24"), ("B", "6")]


def test_a_zero_weight_silences_a_body() -> None:
    votes = [{"from": "X", "jury_points": {"A": 12}, "televote_points": {"B": 12}}]
    result = score(make_sheet(["A", "B"], votes, weights={"jury": 0, "televote": 1}))
    assert [s.body for s in result.sets] == ["televote"]
    assert result.scoreboard[0].country == "B"


def test_weights_accept_integers_and_fraction_strings() -> None:
    fractions = Rules(weights=Weights(jury="3/4", televote="0.5"))
    integers = Rules(country_weights={"X": Weights(jury=0, televote=2)})
    validate_rules(fractions)
    validate_rules(integers)
    assert effective_weights(fractions, "X") == (Fraction(3, 4), Fraction(1, 2))
    assert effective_weights(integers, "X") == (Fraction(0), Fraction(2))
    assert effective_weights(integers, "Y") == (Fraction(1), Fraction(1))

    votes = [{"from": "X", "jury_points": {"A": 12, "B": 8}, "televote_points": {"B": 12, "A": 4}}]
    exact = score(make_sheet(["A", "B"], votes, weights={"jury": "3/4", "televote": "0.5"}))
    assert {(s.from_, s.body): s.points for s in exact.sets} == {
        ("X", "jury"): {"A": "9", "B": "6"},  # 12 x 3/4, 8 x 3/4
        ("X", "televote"): {"B": "6", "A": "2"},  # 12 x 1/2, 4 x 1/2
    }
    assert [(line.country, line.total) for line in exact.scoreboard] == [("B", "12"), ("A", "11")]
    whole = score(make_sheet(["A", "B"], votes, country_weights={"X": {"jury": 0, "televote": 2}}))
    assert {(s.from_, s.body): s.points for s in whole.sets} == {
        ("X", "televote"): {"B": 24, "A": 8},  # integer weights keep JSON integers
    }


# ------------------------------------------------------------------ substitutes


def _jurors(*rankings: str) -> list[list[str]]:
    return [list(r) for r in rankings]


def test_an_invalid_jury_with_substitute_from_gets_the_groups_aggregate() -> None:
    sheet = make_sheet(
        ["A", "B", "C", "D"],
        [
            {"from": "P", "jury_points": {"A": 3, "B": 2, "D": 1}},
            {"from": "Q", "jury_points": {"B": 3, "D": 2, "C": 1}},
            {"from": "R", "jury_points": {"A": 3}},  # not in the group
            {"from": "D", "jury_rankings": _jurors("AB"), "substitute_from": ["P", "Q"]},
        ],
        points=[3, 2, 1],
    )
    result = score(sheet)
    d = next(s for s in result.sets if s.from_ == "D" and s.body == "jury")
    # B 2+3=5, A 3, C 1; D's own entry (1+2) is left out
    assert list(d.points.items()) == [("B", 3), ("A", 2), ("C", 1)]
    assert d.substitute is True
    assert "votes[3].jury_rankings[0]" in d.note and "incomplete" in d.note


def test_a_missing_jury_with_substitute_from_gets_a_substitute_set() -> None:
    # the service omits jury_rankings when too few ballots are valid
    sheet = make_sheet(
        ["A", "B", "C"],
        [
            {"from": "P", "jury_rankings": _jurors("ABC", "ABC")},
            {"from": "Q", "jury_rankings": _jurors("BCA")},
            {"from": "S", "televote_counts": {"C": 3}, "substitute_from": ["P", "Q"]},
        ],
        points=[2, 1],
    )
    result = score(sheet)
    s = next(s for s in result.sets if s.from_ == "S" and s.body == "jury")
    # P: A2 B1, Q: B2 C1 -> B 3, A 2, C 1 ; equal-sum ties by number of givers
    assert s.points == {"B": 2, "A": 1}
    assert s.substitute and s.note.startswith("no jury")
    assert (
        next(x for x in result.sets if x.from_ == "S" and x.body == "televote").substitute is False
    )


def test_substitute_ties_go_to_more_givers_then_earlier_performance() -> None:
    sheet = make_sheet(
        ["A", "B", "C", "D"],
        [
            {"from": "P", "jury_points": {"D": 2, "C": 1}},
            {"from": "Q", "jury_points": {"C": 1, "B": 2}},
            {"from": "S", "substitute_from": ["P", "Q"], "televote_counts": {"A": 1}},
        ],
        points=[2, 1],
    )
    s = next(s for s in score(sheet).sets if s.from_ == "S" and s.body == "jury")
    # B, C and D all sum 2: C has points from two countries, then B performs before D
    assert s.points == {"C": 2, "B": 1}


def test_an_invalid_televote_with_substitute_from_gets_the_groups_audience_aggregate() -> None:
    sheet = make_sheet(
        ["A", "B", "C"],
        [
            {"from": "P", "televote_counts": {"A": 10, "B": 5}},
            {
                "from": "S",
                "televote_counts": {"Q": 10},
                "substitute_from": ["P"],
                "jury_points": {"A": 2},
            },
        ],
        points=[2, 1],
    )
    s = next(s for s in score(sheet).sets if s.from_ == "S" and s.body == "televote")
    assert s.points == {"A": 2, "B": 1} and s.substitute
    assert "unknown entry 'Q'" in s.note


def test_substitute_members_use_their_own_bodies_never_another_substitute() -> None:
    sheet = make_sheet(
        ["A", "B"],
        [
            {"from": "P", "televote_counts": {"A": 1}, "substitute_from": ["Q"]},
            {
                "from": "Q",
                "jury_points": {"B": 12},
                "substitute_from": ["P"],
                "televote_counts": {"B": 1},
            },
        ],
    )
    result = score(sheet)
    assert {(s.from_, s.body): s.points for s in result.sets} == {
        ("P", "jury"): {"B": 12},
        ("P", "televote"): {"A": 12},
        ("Q", "jury"): {"B": 12},
        ("Q", "televote"): {"B": 12},
    }


# ------------------------------------------------------------------ reveal, explanations, JSON


def test_reveal_gives_jury_sets_in_vote_order_then_televote_totals_from_jury_last() -> None:
    sheet = make_sheet(
        ["A", "B", "C"],
        [
            {"from": "Y", "jury_points": {"B": 12, "C": 10}, "televote_points": {"A": 12}},
            {"from": "X", "jury_points": {"C": 12}},
            {"from": "WW", "televote_points": {"C": 12}},
        ],
    )
    reveal = score(sheet).reveal
    assert [(r.step, r.body, r.from_, r.to) for r in reveal] == [
        (1, "jury", "Y", None),
        (2, "jury", "X", None),
        (3, "televote", None, "A"),  # jury-only board: C 22, B 12, A 0
        (4, "televote", None, "B"),
        (5, "televote", None, "C"),
    ]
    assert reveal[2].points == {"A": 12} and reveal[3].points == {"B": 0}


def test_explanations_list_who_gave_what_from_which_body() -> None:
    sheet = make_sheet(
        ["A", "B"],
        [{"from": "X", "jury_points": {"B": 12, "A": 10}, "televote_points": {"A": 12}}],
    )
    ex = score(sheet).explanations
    assert [(e.from_, e.body, e.points, e.rank) for e in ex["A"]] == [
        ("X", "jury", 10, 2),
        ("X", "televote", 12, 1),
    ]


def test_result_json_has_the_contract_shape() -> None:
    sheet = make_sheet(
        ["A", "B"], [{"from": "X", "jury_rankings": [["B", "A"]], "televote_counts": {"A": 1}}]
    )
    doc = json.loads(result_to_json(score(sheet)))
    assert set(doc) >= {"scoreboard", "sets", "reveal"}
    assert doc["scoreboard"][0] == {
        "country": "A",
        "place": 1,
        "total": 22,
        "jury": 10,
        "televote": 12,
        "running_order": 1,
    }
    assert doc["sets"][0] == {"from": "X", "body": "jury", "points": {"B": 12, "A": 10}}
    assert doc["reveal"][0] == {
        "step": 1,
        "body": "jury",
        "from": "X",
        "points": {"B": 12, "A": 10},
    }
    assert doc["reveal"][-1] == {"step": 3, "body": "televote", "to": "B", "points": {"B": 0}}


def test_fraction_results_parse_back_exactly() -> None:
    from scoring import parse_points

    votes = [{"from": "X", "televote_points": {"A": 7}}]
    result = score(make_sheet(["A"], votes, weights={"jury": 1, "televote": "1/3"}))
    assert parse_points(result.scoreboard[0].total) == Fraction(7, 3)


def test_jury_set_computes_one_countrys_set_from_juror_rankings() -> None:
    from scoring import Entry, SheetError, jury_set

    entries = [Entry(country=c, running_order=i) for i, c in enumerate("ABC", start=1)]
    rules = Rules(points=[2, 1], weights=Weights(jury=3))
    # raw scale points: the weight of 3 is not applied
    assert jury_set(rules, entries, "C", [["B", "A"], ["B", "A"]]) == {"B": 2, "A": 1}
    assert jury_set(rules, entries, "C", [["A", "B"], ["B", "A"], ["A", "B"]]) == {"A": 2, "B": 1}
    with pytest.raises(SheetError) as info:
        jury_set(rules, entries, "C", [["B", "C"]])
    assert info.value.field == "votes[0].jury_rankings[0][1]"
