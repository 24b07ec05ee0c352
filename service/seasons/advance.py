"""Who goes on from a round's frozen results, and the next round's contest definition.

Pure: the API reads the contests and their frozen results and stores what this returns.
The frozen scoreboard already gives every entry its own place (the contest's tie-break
chain, scoring/scoreboard.py), so "the top N" and "the bottom K" need no tie-breaks here;
a disqualified entry has no scoreboard line, so it never goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

from scoring import Result
from service.contests.models import Contest, ContestIn, EntryIn
from service.core.errors import ApiError
from service.seasons.models import AdvanceIn, AdvanceRule


def split(rule: AdvanceRule, result: Result) -> tuple[list[str], list[str]]:
    """(going on, out) of one contest, each in scoreboard order."""
    board = [line.country for line in sorted(result.scoreboard, key=lambda line: line.place)]
    keep = rule.qualify if rule.qualify is not None else max(len(board) - (rule.leave or 0), 0)
    return board[:keep], board[keep:]


def next_contest(rule: AdvanceRule, round_name: str, season_name: str,
                 sources: Sequence[tuple[Contest, Result]], body: AdvanceIn
                 ) -> tuple[ContestIn, list[str]]:
    """The next round's definition and who is out. Entries keep artist and song; the
    rules, vote cap and jury settings come from the round's first contest."""
    going: list[EntryIn] = []
    out: list[str] = []
    for contest, result in sources:
        on, off = split(rule, result)
        chosen = set(on)
        going += [e for e in sorted(contest.entries, key=lambda e: e.running_order)
                  if e.country in chosen]
        out += off
    if not going:
        raise ApiError(409, "season_complete", "no entry goes on from this round")
    by_country = {e.country: e for e in going}
    order = body.running_order if body.running_order is not None else list(by_country)
    if sorted(order) != sorted(by_country):
        raise ApiError(422, "running_order_mismatch", "running_order must list every entry "
                       f"going on exactly once: {', '.join(sorted(by_country))}")
    entries = [EntryIn(country=c, running_order=i, artist=by_country[c].artist,
                       song=by_country[c].song) for i, c in enumerate(order, start=1)]
    voting: list[str] = []
    for contest, _ in sources:
        voting += [c for c in contest.voting_countries if c not in voting]
    first = sources[0][0]
    return ContestIn(
        name=body.name or f"{season_name}: {round_name}",
        entries=entries,
        voting_countries=body.voting_countries if body.voting_countries is not None else voting,
        rules=first.rules, vote_cap=first.vote_cap, jury_size=first.jury_size,
        jury_min_valid=first.jury_min_valid, id=body.id,
    ), out
