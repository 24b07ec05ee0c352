"""Unit tests: each rule of docs/scoring-io.md, one behaviour per test."""

from __future__ import annotations

import json
from fractions import Fraction

import msgspec
import pytest

from scoring import EUROVISION_TIEBREAK, Rules, Weights, result_to_json, score, validate_rules
from scoring.ranking import average_rank_order, exponential_order
from scoring.rules import effective_weights

from .conftest import make_sheet

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

ABC = ["A", "B", "C", "D", "E"]


def board(sheet_result: object) -> list[str]:
    return [line.country for line in sheet_result.scoreboard]  # type: ignore[attr-defined]


def sets_of(result: object, body: str) -> dict[str, dict[str, object]]:
    return {s.from_: s.points for s in result.sets if s.body == body}  # type: ignore[attr-defined]


# ------------------------------------------------------------------ defaults, points scale


def test_rules_without_arguments_are_the_contract_defaults_and_valid() -> None:
    rules = Rules()
    validate_rules(rules)
    assert rules.points == [12, 10, 8, 7, 6, 5, 4, 3, 2, 1]
    assert (rules.jury_method, rules.combination, rules.tiebreak) == (
        "exponential",
        "split",
        "eurovision",
    )
    assert msgspec.convert({}, Rules) == rules
    assert msgspec.json.decode(msgspec.json.encode(rules), type=Rules) == rules


def test_a_set_awards_the_scale_best_first_and_fewer_points_when_fewer_entries() -> None:
    sheet = make_sheet(
        ABC, [{"from": "X", "televote_counts": {"A": 5, "B": 9, "C": 1}}], points=[3, 2, 1, 1]
    )
    points = sets_of(score(sheet), "televote")["X"]
    assert list(points.items()) == [("B", 3), ("A", 2), ("C", 1)]


def test_a_voting_country_never_gives_points_to_its_own_entry() -> None:
    sheet = make_sheet(
        ["A", "B", "C"],
        [{"from": "A", "jury_rankings": [["C", "B"]], "televote_counts": {"B": 3, "C": 2}}],
        points=[2, 1],
    )
    result = score(sheet)
    assert all("A" not in s.points for s in result.sets)
    assert sets_of(result, "jury")["A"] == {"C": 2, "B": 1}


def test_a_voting_country_without_an_entry_ranks_every_entry() -> None:
    sheet = make_sheet(["A", "B"], [{"from": "Z", "jury_rankings": [["B", "A"]]}], points=[2, 1])
    assert sets_of(score(sheet), "jury")["Z"] == {"B": 2, "A": 1}


def test_televote_entries_without_votes_get_no_points() -> None:
    sheet = make_sheet(ABC, [{"from": "X", "televote_counts": {"A": 0, "B": 4}}])
    assert sets_of(score(sheet), "televote")["X"] == {"B": 12}


# ------------------------------------------------------------------ jury methods and ties


def test_exponential_sums_decide_where_average_rank_sees_a_tie() -> None:
    # mean rank 2.5 for both; x + x^4 = 1.2947 > x^2 + x^3 = 1.2494 (x = e^-0.19)
    ranks = {"A": [2, 3], "B": [1, 4]}
    running = {"A": 1, "B": 2}
    assert average_rank_order(ranks, running) == ["A", "B"]  # equal means: earlier first
    assert exponential_order(ranks, running) == ["B", "A"]


def test_an_exact_exponential_tie_goes_to_the_earlier_performance() -> None:
    sheet = make_sheet(
        {"A": 2, "B": 1, "C": 3},
        [{"from": "X", "jury_rankings": [["A", "B", "C"], ["B", "A", "C"]]}],
        points=[2, 1],
    )
    assert list(sets_of(score(sheet), "jury")["X"]) == ["B", "A"]


def test_average_rank_orders_by_mean_rank() -> None:
    sheet = make_sheet(
        ["A", "B", "C"],
        [{"from": "X", "jury_rankings": [["C", "A", "B"], ["A", "C", "B"], ["C", "B", "A"]]}],
        points=[2, 1],
        jury_method="average_rank",
    )
    assert list(sets_of(score(sheet), "jury")["X"]) == ["C", "A"]


def test_equal_televote_counts_go_to_the_entry_the_same_jury_ranked_higher() -> None:
    sheet = make_sheet(
        ["A", "B", "C"],
        [{"from": "X", "jury_rankings": [["C", "B", "A"]], "televote_counts": {"A": 5, "B": 5}}],
        points=[2, 1],
    )
    assert list(sets_of(score(sheet), "televote")["X"]) == ["B", "A"]


def test_equal_televote_counts_follow_jury_points_when_the_jury_is_a_set() -> None:
    sheet = make_sheet(
        ["A", "B", "C"],
        [{"from": "X", "jury_points": {"C": 2, "B": 1}, "televote_counts": {"A": 5, "C": 5}}],
        points=[2, 1],
    )
    assert list(sets_of(score(sheet), "televote")["X"]) == ["C", "A"]


def test_equal_televote_counts_without_a_jury_go_to_the_earlier_performance() -> None:
    sheet = make_sheet(
        {"A": 3, "B": 1, "C": 2}, [{"from": "WW", "televote_counts": {"A": 5, "B": 5, "C": 5}}]
    )
    assert list(sets_of(score(sheet), "televote")["WW"]) == ["B", "C", "A"]


# ------------------------------------------------------------------ missing bodies, WW


def test_bodies_may_be_missing_and_rest_of_world_votes_by_audience_only() -> None:
    sheet = make_sheet(
        ["A", "B"],
        [
            {"from": "J", "jury_points": {"A": 12}},
            {"from": "T", "televote_points": {"B": 12, "A": 10}},
            {"from": "WW", "televote_counts": {"A": 3, "B": 1}},
            {"from": "N"},
        ],
    )
    result = score(sheet)
    assert [(s.from_, s.body) for s in result.sets] == [
        ("J", "jury"),
        ("T", "televote"),
        ("WW", "televote"),
    ]
    assert [(line.country, line.jury, line.televote) for line in result.scoreboard] == [
        ("A", 12, 22),
        ("B", 0, 22),
    ]


# ------------------------------------------------------------------ tie-break chain


def _two_way(votes: list[dict[str, object]], **rules: object) -> list[str]:
    return board(score(make_sheet({"A": 1, "B": 2}, votes, **rules)))


def test_tiebreak_televote_points_wins_over_jury_points() -> None:
    votes = [
        {"from": "X", "jury_points": {"A": 12}, "televote_points": {"B": 12}},
        {"from": "Y", "jury_points": {"A": 10}, "televote_points": {"B": 10}},
    ]
    assert _two_way(votes) == ["B", "A"]
    assert _two_way(votes, tiebreak=["jury_points"]) == ["A", "B"]


def test_tiebreak_televote_countries_counts_audiences_including_rest_of_world() -> None:
    votes = [
        {"from": "X", "televote_points": {"A": 12, "B": 8}},
        {"from": "Y", "televote_points": {"B": 4}},
        {"from": "WW", "televote_points": {"A": 0, "B": 0}},
    ]
    assert _two_way(votes, tiebreak=["televote_countries"]) == ["B", "A"]
    votes.append({"from": "Z", "televote_points": {"A": 1}})
    votes.append({"from": "WW2", "televote_points": {"B": 1}})
    assert _two_way(votes, tiebreak=["televote_countries"]) == ["B", "A"]


def test_tiebreak_top_scores_counts_twelves_then_tens_over_all_sets() -> None:
    votes = [
        {"from": "X", "jury_points": {"B": 12, "A": 10}},
        {"from": "Y", "jury_points": {"A": 12, "B": 10}},
        {"from": "Z", "televote_points": {"B": 8, "A": 6}},
        {"from": "W", "jury_points": {"A": 2}},
    ]  # A 30, B 30; 12s: 1-1, 10s: 1-1, 8s: B (from an audience set)
    assert _two_way(votes, tiebreak=["top_scores"]) == ["B", "A"]
    assert _two_way(votes, tiebreak=["running_order"]) == ["A", "B"]
    one_twelve = [
        {"from": "X", "jury_points": {"B": 12, "A": 10}},
        {"from": "Y", "jury_points": {"A": 10, "B": 8}},
    ]  # A 20, B 20: B's one 12 beats A's two 10s
    assert _two_way(one_twelve, tiebreak=["top_scores"]) == ["B", "A"]


def test_tiebreak_televote_top_scores_uses_audience_sets_only() -> None:
    votes = [
        {"from": "X", "jury_points": {"B": 12}, "televote_points": {"A": 12, "B": 6}},
        {"from": "Y", "jury_points": {"A": 12}, "televote_points": {"B": 6}},
    ]  # A 24, B 24; audience 12s: A 1, B 0
    assert _two_way(votes, tiebreak=["televote_top_scores"]) == ["A", "B"]
    swapped = [
        {"from": "X", "televote_points": {"B": 12, "A": 10}},
        {"from": "Y", "jury_points": {"A": 12, "B": 10}},
    ]  # A 22, B 22; audience 12s: B
    assert _two_way(swapped, tiebreak=["televote_top_scores"]) == ["B", "A"]
    assert _two_way(swapped, tiebreak=["top_scores"]) == ["A", "B"]  # 12s 1-1, 10s 1-1 -> RO


def test_tiebreak_running_order_is_the_last_resort_and_earlier_wins() -> None:
    sheet = make_sheet(
        {"A": 7, "B": 3}, [{"from": "X", "jury_points": {"A": 5, "B": 5}}], points=[5, 5]
    )
    assert board(score(sheet)) == ["B", "A"]


def test_eurovision_chain_is_televote_points_countries_top_scores_running_order() -> None:
    assert EUROVISION_TIEBREAK == (
        "televote_points",
        "televote_countries",
        "top_scores",
        "running_order",
    )
    # equal totals, equal televote points: B has them from more countries
    votes = [
        {"from": "X", "jury_points": {"A": 2}, "televote_points": {"A": 12}},
        {"from": "Y", "jury_points": {"B": 2}, "televote_points": {"B": 7}},
        {"from": "Z", "televote_points": {"B": 5}},
    ]
    assert _two_way(votes) == ["B", "A"]
    # equal totals, televote points and countries: B has more top scores (an 8)
    votes = [
        {"from": "X", "televote_points": {"A": 12, "B": 10}},
        {"from": "Y", "televote_points": {"B": 12, "A": 10}},
        {"from": "Z", "jury_points": {"B": 8, "A": 7}},
        {"from": "W", "jury_points": {"A": 1}},
    ]
    assert _two_way(votes) == ["B", "A"]
    # equal in everything: the earlier performance
    votes = [
        {"from": "X", "televote_points": {"A": 12, "B": 10}},
        {"from": "Y", "televote_points": {"B": 12, "A": 10}},
    ]
    assert _two_way(votes) == ["A", "B"]


def test_places_are_one_to_n_with_no_shared_places() -> None:
    sheet = make_sheet(ABC, [])
    assert [line.place for line in score(sheet).scoreboard] == [1, 2, 3, 4, 5]
    assert board(score(sheet)) == ABC


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
