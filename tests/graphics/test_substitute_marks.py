"""Substitute results never go on air unmarked (issue 17): with only Kazakhstan's jury
valid, the API said `substitute: true` only on some sets and the reveal steps said
nothing, so the console, the overlay and the presenter read "from Azerbaijan" as
Azerbaijan's own vote. Every set and every reveal step now says where it came from,
and so do the graphics feeds."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import httpx
import pytest

from tests.conftest import LiveServer
from tests.graphics.show import Show, kazakh_jury_only


@pytest.fixture(scope="module")
def show(live_server: LiveServer) -> Iterator[Show]:
    yield kazakh_jury_only(live_server)


def full_results(show: Show) -> dict:  # type: ignore[type-arg]
    r = httpx.get(show.url("/results"), params={"view": "full", "source": "ledger"},
                  headers=show.server.admin, timeout=20)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_every_set_says_whether_it_is_the_countrys_own_or_a_substitute(show: Show) -> None:
    sets = full_results(show)["sets"]
    assert sets
    for s in sets:
        assert isinstance(s["substitute"], bool), "always present, never left out"
        assert s["origin"] == ("substitute" if s["substitute"] else "own")
        assert isinstance(s["void_votes"], int)
    jury = {s["from"]: s for s in sets if s["body"] == "jury"}
    assert jury["KZ"]["origin"] == "own"
    assert jury["AM"]["origin"] == "substitute" and "KZ" in jury["AM"]["note"]
    televote = {s["from"]: s for s in sets if s["body"] == "televote"}
    assert televote["UZ"]["origin"] == "own"
    assert televote["AM"]["origin"] == "substitute", "Armenia's audience did not vote"


def test_every_reveal_step_says_whether_its_points_are_substitutes(show: Show) -> None:
    steps = full_results(show)["reveal"]
    jury_steps = {s["from"]: s for s in steps if s["body"] == "jury"}
    assert jury_steps["KZ"]["substitute"] is False and jury_steps["KZ"]["origin"] == "own"
    assert jury_steps["AM"]["substitute"] is True and jury_steps["AM"]["substitutes"] == ["AM"]
    for s in steps:
        values = [Fraction(str(v)) for v in s["points"].values()]  # "21/2" too
        assert values == sorted(values, reverse=True), "best first"
    televote = [s for s in steps if s["body"] == "televote"]
    assert televote and all(isinstance(s["substitutes"], list) for s in televote)
    marked = [s for s in televote if s["substitute"]]
    assert marked, "substitute audiences gave points, so some totals hold them"
    for s in marked:
        assert s["origin"] in ("substitute", "mixed") and s["substitutes"]


def test_the_step_on_air_and_the_now_feed_say_substitute(show: Show) -> None:
    steps = full_results(show)["reveal"]
    first_substitute = next(s["step"] for s in steps if s["body"] == "jury" and s["substitute"])
    answer = {}
    for _ in range(first_substitute):
        answer = show.reveal_next()
    assert answer["step"]["substitute"] is True and answer["step"]["origin"] == "substitute"
    frozen = [float(v) for v in answer["step"]["points"].values()]
    assert frozen == sorted(frozen, reverse=True), "still best first once frozen (jsonb)"
    public = httpx.get(show.url("/results"), timeout=20).json()
    assert public["last_step"]["substitute"] is True
    assert all(s["origin"] == "substitute" for s in public["sets"]
               if s["from"] == public["last_step"]["from"] and s["body"] == "jury")
    now = httpx.get(show.url("/graphics/now.json"), timeout=20).json()
    assert len(now) == 1
    row = now[0]
    assert row["step"] == first_substitute and row["steps"] == len(steps)
    assert row["voter"] == public["last_step"]["from"] and row["substitute"] is True
    assert row["origin"] == "substitute" and row["body"] == "jury"
    top = next(iter(public["last_step"]["points"]))
    assert row["recipient"] == top and row["give_1_country"] == top
    assert isinstance(row["points"], int) and row["points"] == 12
    board = httpx.get(show.url("/graphics/scoreboard.json"), timeout=20).json()
    twelve = [r for r in board if r["is_twelve"]]
    assert [r["country"] for r in twelve] == [top] and twelve[0]["step_points"] == 12
