"""Turn a contest's stored votes into a scoring sheet (the one place that does it).

Jury sets appear once the jury is locked. A voting country whose jury has fewer valid
ballots than the contest's minimum gets a substitute set from the countries whose juries
are valid (scoring/ forms the aggregate; docs/scoring.md says how).
"""

from __future__ import annotations

from scoring import CountryVote, Entry, Sheet
from service.contests.models import Contest

Counts = dict[str, dict[str, int]]
Rankings = dict[str, list[list[str]]]
REST_OF_WORLD = "WW"


def contest_sheet(contest: Contest, counts: Counts, rankings: Rankings | None) -> Sheet:
    """The sheet for `contest`; `rankings` None means no jury sets (not locked yet)."""
    entries = [Entry(country=e.country, running_order=e.running_order, artist=e.artist,
                     song=e.song) for e in contest.entries]
    valid_juries = _valid_juries(contest, rankings)
    votes = []
    for country in contest.voting_countries:
        vote = CountryVote(from_=country)
        televote = {entry: n for entry, n in counts.get(country, {}).items()
                    if n > 0 and entry != country}
        if televote:
            vote.televote_counts = televote
        if rankings is not None and country != REST_OF_WORLD and contest.jury_size > 0:
            if country in valid_juries:
                vote.jury_rankings = rankings[country]
            elif valid_juries:
                vote.substitute_from = sorted(valid_juries - {country})
        votes.append(vote)
    return Sheet(rules=contest.rules, entries=entries, votes=votes,
                 disqualified=list(contest.disqualified))


def _valid_juries(contest: Contest, rankings: Rankings | None) -> set[str]:
    if not rankings:
        return set()
    minimum = max(contest.jury_min_valid, 1)
    return {country for country, ballots in rankings.items() if len(ballots) >= minimum}
