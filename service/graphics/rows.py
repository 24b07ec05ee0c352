"""The flat rows a graphics system maps onto its fields, built from the public results.

vMix reads a JSON data source as an *array of objects*, one row per object, and maps a
title's fields onto the row's keys (its XML source takes an XPath to repeated elements,
its CSV source a header row); Singular's data nodes and table widgets take the same
flat key/value rows. So every row here is flat, every key is always present, numbers
are always JSON numbers (an exact fraction such as "21/2" becomes 10.5) and absent
things are "" or 0, never null, so a template never shows "undefined".

The rows are built from the *public* view only: the feeds show exactly what the
results API shows the audience at that moment (during the reveal, only the steps
announced so far).
"""

from __future__ import annotations

from fractions import Fraction

import msgspec

from scoring import ScoreLine
from scoring.models import PointsValue
from service.contests.models import Contest
from service.graphics.names import country_name
from service.results.marks import ShownStep
from service.results.views import ResultsView, partial_scoreboard

Number = int | float
GIVE_COLUMNS = 10  # the Eurovision scale has ten awards; more are left out of now rows


class ScoreRow(msgspec.Struct, kw_only=True):
    """One entry on the scoreboard (the key order is the column order of CSV and XML)."""

    place: int
    previous_place: int
    country: str
    name: str
    artist: str
    song: str
    running_order: int
    flag: str
    flag_png: str
    total: Number
    jury: Number
    televote: Number
    #: What the entry received in the last announced step (0 before the reveal).
    step_points: Number
    #: True for the entry that got the top score of the last announced jury step.
    is_twelve: bool


def number(value: PointsValue | None) -> Number:
    """Points as a JSON number: whole numbers as integers, fractions to 2 decimals."""
    if value is None:
        return 0
    exact = Fraction(value)
    return exact.numerator if exact.denominator == 1 else round(float(exact), 2)


def flag_urls(base_url: str, code: str) -> tuple[str, str]:
    root = base_url.rstrip("/")
    return f"{root}/flags/{code}.svg", f"{root}/flags/{code}.png"


def step_awards(step: ShownStep | None) -> tuple[dict[str, Number], str]:
    """(points per entry in `step`, the entry with its top award or "")."""
    if step is None:
        return {}, ""
    awards = {country: number(points) for country, points in step.points.items()}
    if step.body == "televote":
        return awards, step.to or next(iter(awards), "")
    top = max(awards, key=lambda c: awards[c], default="")
    return awards, top


def previous_places(view: ResultsView) -> dict[str, int]:
    """Each entry's place before the last announced step (its place, before the reveal)."""
    if view.phase == "voting" or not view.reveal:
        return {line.country: line.place for line in view.scoreboard}
    before = partial_scoreboard(view.scoreboard, view.reveal[:-1])
    return {line.country: line.place for line in before}


def scoreboard_rows(contest: Contest, view: ResultsView, lang: str, base_url: str
                    ) -> list[ScoreRow]:
    entries = {e.country: e for e in contest.entries}
    step = view.last_step if view.phase != "voting" else None
    awards, top = step_awards(step)
    before = previous_places(view)
    rows = []
    for line in sorted(view.scoreboard, key=lambda s: s.place):
        entry = entries.get(line.country)
        svg, png = flag_urls(base_url, line.country)
        rows.append(ScoreRow(
            place=line.place, previous_place=before.get(line.country, line.place),
            country=line.country, name=country_name(line.country, lang),
            artist=entry.artist if entry else "", song=entry.song if entry else "",
            running_order=line.running_order, flag=svg, flag_png=png,
            total=number(line.total), jury=number(line.jury),
            televote=number(line.televote), step_points=awards.get(line.country, 0),
            is_twelve=step is not None and step.body != "televote" and top == line.country,
        ))
    return rows


def now_row(contest: Contest, view: ResultsView, lang: str, base_url: str
            ) -> dict[str, str | Number | bool]:
    """The lower third: who is voting, what they give, step n of N, and the leader.

    A dict rather than a Struct because the `give_N_*` columns are numbered."""
    step = view.last_step if view.phase != "voting" else None
    awards, top = step_awards(step)
    voter = (step.from_ or "") if step else ""
    leader: ScoreLine | None = min(view.scoreboard, key=lambda s: s.place, default=None)
    row: dict[str, str | Number | bool] = {
        "contest": contest.id, "title": contest.name, "phase": view.phase,
        "window": view.window, "step": view.revealed, "steps": view.reveal_total,
        "body": step.body if step else "",
        "voter": voter, "voter_name": country_name(voter, lang) if voter else "",
        "voter_flag": flag_urls(base_url, voter)[0] if voter else "",
        "substitute": bool(step and step.substitute),
        "origin": step.origin if step else "",
        "recipient": top, "recipient_name": country_name(top, lang) if top else "",
        "recipient_flag": flag_urls(base_url, top)[0] if top else "",
        "points": awards.get(top, 0),
        "leader": leader.country if leader else "",
        "leader_name": country_name(leader.country, lang) if leader else "",
        "leader_total": number(leader.total) if leader else 0,
    }
    given = list(awards.items()) if step and step.body != "televote" else []
    for i in range(GIVE_COLUMNS):
        country, points = given[i] if i < len(given) else ("", 0)
        row[f"give_{i + 1}_country"] = country
        row[f"give_{i + 1}_name"] = country_name(country, lang) if country else ""
        row[f"give_{i + 1}_points"] = points
    return row
