"""Property tests (hypothesis): invariants that hold for every contest."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, get_args

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring import Result, Sheet, decode_sheet, score
from scoring.models import TiebreakCriterion
from scoring.ranking import exponential_order, jury_order_from_rankings

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

CODES = ["AM", "AZ", "CN", "GE", "IN", "KG", "KR", "KZ", "MN", "TJ", "TM", "UZ"]
VOTERS_WITHOUT_ENTRY = ["WW", "XA", "XB"]
SETTINGS = settings(max_examples=120, deadline=None)


@st.composite
def contests(draw: st.DrawFn, *, weights: bool = True, only_raw: bool = False) -> dict[str, Any]:
    """A random, valid sheet as a JSON-like document."""
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=10, unique=True))
    orders = draw(st.permutations(range(1, len(codes) + 1)))
    entries = [{"country": c, "running_order": o} for c, o in zip(codes, orders, strict=True)]
    scale = sorted(draw(st.lists(st.integers(1, 15), min_size=1, max_size=6)), reverse=True)
    voters = draw(st.lists(st.sampled_from(CODES + VOTERS_WITHOUT_ENTRY), max_size=8, unique=True))
    votes: list[dict[str, Any]] = []
    for voter in voters:
        eligible = [c for c in codes if c != voter]
        vote: dict[str, Any] = {"from": voter}
        jury = draw(
            st.sampled_from(
                ["none", "rankings", "points"] if not only_raw else ["none", "rankings"]
            )
        )
        if jury == "rankings" and eligible:
            vote["jury_rankings"] = [
                list(draw(st.permutations(eligible))) for _ in range(draw(st.integers(1, 5)))
            ]
        elif jury == "points":
            shuffled = draw(st.permutations(eligible))
            vote["jury_points"] = dict(zip(shuffled, scale, strict=False))
        tele = draw(
            st.sampled_from(["none", "counts", "points"] if not only_raw else ["none", "counts"])
        )
        if tele == "counts":
            vote["televote_counts"] = {c: draw(st.integers(0, 30)) for c in eligible}
        elif tele == "points":
            shuffled = draw(st.permutations(eligible))
            vote["televote_points"] = dict(zip(shuffled, scale, strict=False))
        others = [v for v in voters if v != voter]
        if others and draw(st.integers(0, 3)) == 0:
            vote["substitute_from"] = draw(
                st.lists(st.sampled_from(others), min_size=1, max_size=3, unique=True)
            )
        votes.append(vote)
    by_voter = {v["from"]: v for v in votes}
    for vote in votes:  # break some juries that a listed country can stand in for
        helpers = [by_voter[c] for c in vote.get("substitute_from", ())]
        if (
            "jury_rankings" in vote
            and any("jury_points" in h for h in helpers)  # points sets are never broken
            and draw(st.booleans())
        ):
            vote["jury_rankings"][0] = vote["jury_rankings"][0][1:]
    rules: dict[str, Any] = {
        "points": scale,
        "jury_method": draw(st.sampled_from(["exponential", "average_rank"])),
        "combination": draw(st.sampled_from(["split", "combined"])),
        "tiebreak": draw(
            st.one_of(
                st.just("eurovision"),
                st.lists(
                    st.sampled_from(get_args(TiebreakCriterion)),
                    max_size=4,
                ),
            )
        ),
    }
    if weights:
        rules["weights"] = {"jury": draw(st.integers(0, 3)), "televote": draw(st.integers(0, 3))}
        if voters and draw(st.booleans()):
            rules["country_weights"] = {
                draw(st.sampled_from(voters)): {"jury": draw(st.integers(0, 2))}
            }
    return {"rules": rules, "entries": entries, "votes": votes}


def sheet_of(doc: dict[str, Any]) -> Sheet:
    return decode_sheet(msgspec.json.encode(doc))


def places(result: Result) -> list[str]:
    return [line.country for line in result.scoreboard]


@SETTINGS
@given(contests(weights=False, only_raw=True))
def test_every_set_awards_the_scale_or_fewer_points_when_fewer_are_eligible(
    doc: dict[str, Any],
) -> None:
    result = score(sheet_of(doc))
    scale = doc["rules"]["points"]
    votes = {v["from"]: v for v in doc["votes"]}
    codes = {e["country"] for e in doc["entries"]}
    for s in result.sets:
        vote = votes[s.from_]
        if s.substitute:  # the top of the scale, best first, for what the group ranked
            assert list(s.points.values()) == scale[: len(s.points)]
            continue
        if s.body == "televote":
            eligible = sum(1 for c, n in vote["televote_counts"].items() if n > 0)
        elif s.body == "jury":
            eligible = len(codes - {s.from_})
        else:
            continue  # combined: checked below
        assert sum(s.points.values()) == sum(scale[:eligible])  # type: ignore[arg-type]
        assert sorted(s.points.values(), reverse=True) == scale[:eligible]
    for s in result.sets:
        if s.body == "combined":
            k = len(s.points)
            assert list(s.points.values()) == scale[:k]


@SETTINGS
@given(contests(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_of_the_input(doc: dict[str, Any], rnd: Any) -> None:
    before = score(sheet_of(doc))
    shuffled = msgspec.json.decode(msgspec.json.encode(doc))
    rnd.shuffle(shuffled["entries"])
    rnd.shuffle(shuffled["votes"])
    for vote in shuffled["votes"]:
        if "jury_rankings" in vote:
            rnd.shuffle(vote["jury_rankings"])  # the order of jurors does not matter
        for key in ("jury_points", "televote_counts", "televote_points"):
            if key in vote:
                items = list(vote[key].items())
                rnd.shuffle(items)
                vote[key] = dict(items)
    after = score(sheet_of(shuffled))
    assert after.scoreboard == before.scoreboard
    # (a substitute's note quotes field paths, which follow the input order)
    assert {(s.from_, s.body): (s.points, s.substitute) for s in after.sets} == {
        (s.from_, s.body): (s.points, s.substitute) for s in before.sets
    }
    assert {
        c: sorted(ex, key=lambda e: (e.from_, e.body)) for c, ex in after.explanations.items()
    } == {c: sorted(ex, key=lambda e: (e.from_, e.body)) for c, ex in before.explanations.items()}


@SETTINGS
@given(contests())
def test_a_country_never_scores_itself(doc: dict[str, Any]) -> None:
    result = score(sheet_of(doc))
    for s in result.sets:
        assert s.from_ not in s.points
    for country, lines in result.explanations.items():
        assert all(line.from_ != country for line in lines)


@SETTINGS
@given(contests(), st.sampled_from([2, 3, "1/2", "7/3", "1/1000"]))
def test_scaling_all_weights_by_a_constant_never_changes_places(
    doc: dict[str, Any], factor: int | str
) -> None:
    before = places(score(sheet_of(doc)))
    scaled = msgspec.json.decode(msgspec.json.encode(doc))
    c = Fraction(factor)
    rules = scaled["rules"]
    rules["weights"] = {k: str(Fraction(v) * c) for k, v in rules["weights"].items()}
    # per-country weights multiply the global ones, so scaling the global weights scales all
    assert places(score(sheet_of(scaled))) == before


@SETTINGS
@given(contests(weights=False, only_raw=True), st.data())
def test_adding_a_juror_who_ranks_like_the_jury_consensus_never_changes_the_jury_set(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    codes = {e["country"] for e in doc["entries"]}
    for v in doc["votes"]:
        v.pop("substitute_from", None)
        complete = len(codes - {v["from"]})
        if any(len(r) != complete for r in v.get("jury_rankings", ())):
            del v["jury_rankings"]  # was broken on purpose for the substitute rule
    juries = [v for v in doc["votes"] if "jury_rankings" in v]
    assume(juries)
    vote = data.draw(st.sampled_from(juries))
    sheet = sheet_of(doc)
    running = {e.country: e.running_order for e in sheet.entries}
    consensus = jury_order_from_rankings(
        vote["jury_rankings"], doc["rules"]["jury_method"], running
    )
    doc["rules"]["combination"] = "split"
    before = score(sheet_of(doc))
    vote["jury_rankings"].append(consensus)
    after = score(sheet_of(doc))
    pick = [s for s in before.sets if s.from_ == vote["from"] and s.body == "jury"]
    again = [s for s in after.sets if s.from_ == vote["from"] and s.body == "jury"]
    assert [list(s.points.items()) for s in again] == [list(s.points.items()) for s in pick]
    assert (
        jury_order_from_rankings(vote["jury_rankings"], doc["rules"]["jury_method"], running)
        == consensus
    )


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(CODES),
        st.lists(st.integers(1, 40), min_size=3, max_size=3),
        min_size=1,
    )
)
def test_exponential_order_agrees_with_200_digit_arithmetic(ranks: dict[str, list[int]]) -> None:
    running = {c: i for i, c in enumerate(CODES)}
    with localcontext() as ctx:
        ctx.prec = 200
        x = (Decimal(-19) / 100).exp()
        value = {c: sum(x**r for r in sorted(rs)) for c, rs in ranks.items()}
    expected = sorted(ranks, key=lambda c: (-value[c], running[c]))
    assert exponential_order(ranks, running) == expected
