"""Proof on real published results: Eurovision 2016-2019 (tests/data/eurovision)."""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import pytest

from scoring import score
from scoring.eurovision_csv import (
    official_final_results,
    official_points,
    sheet_from_eurovision_csv,
)
from scoring.ranking import jury_order_from_rankings

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

SHOWS = [
    (year, round_)
    for year in (2016, 2017, 2018, 2019)
    for round_ in ("final", "semi-final-1", "semi-final-2")
]

#: Documented in docs/scoring.md: 107 of the 168 jury sets of 2016-2017 are reproduced.
AVERAGE_RANK_FLOOR = Fraction(107, 168)


def _computed_jury_sets(
    directory: Path, year: int, round_: str
) -> list[tuple[str, dict[str, int | str], dict[str, int]]]:
    """(country, computed set, official set) for every jury given as juror rankings."""
    sheet = sheet_from_eurovision_csv(directory, year, round_, use_rankings=True)
    ranked = {v.from_ for v in sheet.votes if v.jury_rankings is not None}
    official = official_points(directory, year, round_)
    return [
        (s.from_, s.points, official[s.from_][0])
        for s in score(sheet).sets
        if s.body == "jury" and s.from_ in ranked
    ]


@pytest.mark.parametrize(("year", "round_"), [s for s in SHOWS if s[0] >= 2018])
def test_every_2018_2019_jury_set_from_juror_rankings_equals_the_official_points(
    eurovision_dir: Path, year: int, round_: str
) -> None:
    sets = _computed_jury_sets(eurovision_dir, year, round_)
    assert len(sets) >= 20
    wrong = [country for country, mine, official in sets if mine != official]
    assert wrong == []


def test_2018_2019_cover_167_juries_given_as_rankings(eurovision_dir: Path) -> None:
    shows = [s for s in SHOWS if s[0] >= 2018]
    assert sum(len(_computed_jury_sets(eurovision_dir, y, r)) for y, r in shows) == 167


def test_the_two_real_exponential_ties_go_to_the_earlier_performance(eurovision_dir: Path) -> None:
    sets = {c: mine for c, mine, _ in _computed_jury_sets(eurovision_dir, 2018, "final")}
    pt = sets["PT"]
    assert "AT" in pt and pt.get("BG", 0) < pt["AT"]  # type: ignore[operator]
    sets = {c: mine for c, mine, _ in _computed_jury_sets(eurovision_dir, 2019, "semi-final-2")}
    lt = sets["LT"]
    assert "MT" in lt and lt.get("MK", 0) < lt["MT"]  # type: ignore[operator]


def test_2016_2017_average_rank_reproduces_the_documented_share_and_only_ties_differ(
    eurovision_dir: Path,
) -> None:
    total = reproduced = 0
    for year, round_ in (s for s in SHOWS if s[0] <= 2017):
        sheet = sheet_from_eurovision_csv(eurovision_dir, year, round_, use_rankings=True)
        running = {e.country: e.running_order for e in sheet.entries}
        official = official_points(eurovision_dir, year, round_)
        computed = {s.from_: s.points for s in score(sheet).sets if s.body == "jury"}
        for vote in sheet.votes:
            assert vote.jury_rankings is not None
            total += 1
            reproduced += computed[vote.from_] == official[vote.from_][0]
            # Wherever two mean ranks differ, the official set agrees with the order:
            # every difference is a tie of mean rank broken by a rule the files do not show.
            ranks: dict[str, list[int]] = {}
            for juror in vote.jury_rankings:
                for position, entry in enumerate(juror, start=1):
                    ranks.setdefault(entry, []).append(position)
            mean = {e: Fraction(sum(r), len(r)) for e, r in ranks.items()}
            points = official[vote.from_][0]
            for a in mean:
                for b in mean:
                    if mean[a] < mean[b]:
                        assert points.get(a, 0) >= points.get(b, 0), (year, round_, vote.from_)
            # the computed set is the top of the average-rank order of the same rankings
            order = jury_order_from_rankings(vote.jury_rankings, "average_rank", running)
            assert list(computed[vote.from_]) == order[: len(computed[vote.from_])]
            assert len(computed[vote.from_]) == len(sheet.rules.points)
    assert total == 168
    assert Fraction(reproduced, total) >= AVERAGE_RANK_FLOOR


@pytest.mark.parametrize("year", [2016, 2017, 2018, 2019])
def test_every_final_from_official_sets_gives_official_totals_and_order_of_places(
    eurovision_dir: Path, year: int
) -> None:
    sheet = sheet_from_eurovision_csv(eurovision_dir, year, "final", use_rankings=False)
    result = score(sheet)
    mine = [(line.country, line.jury, line.televote, line.total) for line in result.scoreboard]
    # contestants.csv lists each year's entries in the official order of final places.
    assert mine == official_final_results(eurovision_dir, year)
    assert [line.place for line in result.scoreboard] == list(range(1, len(mine) + 1))


def test_tied_finals_are_settled_by_the_eurovision_chain(eurovision_dir: Path) -> None:
    """2016: NL and MT on 153, NL ahead on televote points (39 vs 16)."""
    sheet = sheet_from_eurovision_csv(eurovision_dir, 2016, "final", use_rankings=False)
    board = {line.country: line for line in score(sheet).scoreboard}
    assert board["NL"].total == board["MT"].total == 153
    assert board["NL"].place == 11 and board["MT"].place == 12


@pytest.mark.parametrize("year", [2016, 2017, 2018, 2019])
@pytest.mark.parametrize("semi", [1, 2])
def test_every_semi_final_from_official_sets_gives_official_places(
    eurovision_dir: Path, year: int, semi: int
) -> None:
    sheet = sheet_from_eurovision_csv(
        eurovision_dir, year, f"semi-final-{semi}", use_rankings=False
    )
    with (eurovision_dir / "contestants.csv").open(newline="") as handle:
        official = {
            row["country"]: (int(row["semifinal_place"]), int(row["semifinal_total_points"]))
            for row in csv.DictReader(handle)
            if int(row["year"]) == year and row["semifinal_number"] == str(semi)
        }
    mine = {line.country: (line.place, line.total) for line in score(sheet).scoreboard}
    assert mine == official


def test_2019_final_rankings_sheet_keeps_belarus_official_substitute_jury(
    eurovision_dir: Path,
) -> None:
    sheet = sheet_from_eurovision_csv(eurovision_dir, 2019, "final", use_rankings=True)
    by = next(v for v in sheet.votes if v.from_ == "BY")
    assert by.jury_rankings is None and by.jury_points
    # With rankings for everyone else, the computed final still matches the official one.
    result = score(sheet)
    mine = [(line.country, line.total) for line in result.scoreboard]
    assert mine == [(c, t) for c, _, _, t in official_final_results(eurovision_dir, 2019)]
