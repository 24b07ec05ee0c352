"""Convert the published Eurovision 2016-2019 CSV files (MIRoVision) into a sheet.

Files (see the data's README): ``contestants.csv`` (running orders), ``votes.csv``
(official points per voting country and entry), ``jurors.csv`` (the five jurors' ranks).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from scoring.models import CountryVote, Entry, Rules, Sheet

ROUNDS = ("final", "semi-final-1", "semi-final-2")
JURORS = ("A", "B", "C", "D", "E")


def _rows(path: Path) -> list[dict[str, str]]:
    stat = path.stat()
    return _read_rows(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _read_rows(path: str, _mtime: int, _size: int) -> list[dict[str, str]]:
    """Parsed once per file version (the rows are only read, never changed)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _int(text: str) -> int | None:
    text = text.strip()
    return None if text in ("", "NA") else int(text)


def entries_from_contestants(directory: Path, year: int, round_: str) -> list[Entry]:
    entries: list[Entry] = []
    for row in _rows(directory / "contestants.csv"):
        if int(row["year"]) != year:
            continue
        if round_ == "final":
            order = _int(row["final_running_order"])
        else:
            semi = _int(row["semifinal_number"])
            order = _int(row["semifinal_running_order"]) if semi == int(round_[-1]) else None
        if order is not None:
            entries.append(
                Entry(
                    country=row["country"],
                    running_order=order,
                    artist=row["performer"],
                    song=row["song"],
                )
            )
    return sorted(entries, key=lambda e: e.running_order)


def sheet_from_eurovision_csv(
    directory: str | Path, year: int, round: str, *, use_rankings: bool = True
) -> Sheet:
    """A sheet for one show. ``use_rankings=True``: each jury as its jurors' rankings from
    ``jurors.csv`` (jurors marked ``NA`` are left out; a country without juror rows keeps
    its official jury points, e.g. Belarus in the 2019 final); ``False``: the official
    jury and televote points. The televote is always the official televote points (the
    files have no raw counts). Rules: average rank up to 2017, exponential from 2018."""
    directory = Path(directory)
    if round not in ROUNDS:
        raise ValueError(f"round must be one of {', '.join(ROUNDS)}, not {round!r}")
    entries = entries_from_contestants(directory, year, round)
    if not entries:
        raise ValueError(f"no entries for {year} {round} in {directory / 'contestants.csv'}")

    jury_points: dict[str, dict[str, int]] = {}
    televote_points: dict[str, dict[str, int]] = {}
    voters: list[str] = []
    for row in _rows(directory / "votes.csv"):
        if int(row["year"]) != year or row["round"] != round:
            continue
        voter = row["from_country"]
        if voter not in jury_points:
            voters.append(voter)
            jury_points[voter], televote_points[voter] = {}, {}
        jury = _int(row["jury_points"]) or 0
        tele = _int(row["televoting_points"]) or 0
        if jury:
            jury_points[voter][row["to_country"]] = jury
        if tele:
            televote_points[voter][row["to_country"]] = tele

    ranks: dict[str, dict[str, list[tuple[int, str]]]] = {}
    if use_rankings:
        for row in _rows(directory / "jurors.csv"):
            if int(row["year"]) != year or row["round"] != round:
                continue
            per_juror = ranks.setdefault(row["from_country"], {})
            for juror in JURORS:
                rank = _int(row[juror])
                if rank is not None:
                    per_juror.setdefault(juror, []).append((rank, row["to_country"]))

    votes: list[CountryVote] = []
    for voter in voters:
        vote = CountryVote(
            from_=voter,
            televote_points=dict(sorted(televote_points[voter].items(), key=lambda kv: -kv[1])),
        )
        if use_rankings and voter in ranks:
            vote.jury_rankings = [
                [country for _, country in sorted(ranked)]
                for _, ranked in sorted(ranks[voter].items())
            ]
        else:
            vote.jury_points = dict(sorted(jury_points[voter].items(), key=lambda kv: -kv[1]))
        votes.append(vote)

    rules = Rules(jury_method="average_rank" if year <= 2017 else "exponential")
    return Sheet(rules=rules, entries=entries, votes=votes)


def official_points(
    directory: str | Path, year: int, round: str
) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """Per voting country: (official jury points, official televote points), non-zero only."""
    out: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    for row in _rows(Path(directory) / "votes.csv"):
        if int(row["year"]) != year or row["round"] != round:
            continue
        jury, tele = out.setdefault(row["from_country"], ({}, {}))
        if j := _int(row["jury_points"]) or 0:
            jury[row["to_country"]] = j
        if t := _int(row["televoting_points"]) or 0:
            tele[row["to_country"]] = t
    return out


def official_final_results(directory: str | Path, year: int) -> list[tuple[str, int, int, int]]:
    """(country, jury, televote, total) of every finalist, in the official order of places
    (the order of total points as published; the files hold no place column for finals)."""
    out: list[tuple[str, int, int, int]] = []
    for row in _rows(Path(directory) / "contestants.csv"):
        if int(row["year"]) != year or _int(row["final_running_order"]) is None:
            continue
        out.append(
            (
                row["country"],
                _int(row["final_jury_points"]) or 0,
                _int(row["final_televoting_points"]) or 0,
                _int(row["final_total_points"]) or 0,
            )
        )
    return sorted(out, key=lambda r: -r[3])
