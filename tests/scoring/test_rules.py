"""Unit tests: each rule of docs/scoring-io.md, one behaviour per test — sets, jury
methods, missing bodies and the tie-break chain."""

from __future__ import annotations

import msgspec
import pytest

from scoring import EUROVISION_TIEBREAK, Rules, score, validate_rules
from scoring.ranking import average_rank_order, exponential_order

from .conftest import make_sheet
from .rule_helpers import ABC, board, sets_of

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

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
