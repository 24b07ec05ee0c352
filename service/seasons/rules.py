"""What makes a season definition acceptable beyond its JSON types (422 naming the round)."""

from __future__ import annotations

from service.core.errors import ApiError
from service.seasons.models import SeasonIn


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_season", message)


def check_season(season: SeasonIn) -> None:
    rounds = season.rounds
    if not rounds[0].contests:
        raise _invalid("rounds[0].contests: the first round names its contests")
    for i, r in enumerate(rounds):
        if i > 0 and r.contests:
            raise _invalid(f"rounds[{i}].contests: a later round's contest is created by "
                           "advance")
        last = i == len(rounds) - 1
        if last and r.advance is not None:
            raise _invalid(f"rounds[{i}].advance: the last round has no next round")
        if not last and (r.advance is None
                         or (r.advance.qualify is None) == (r.advance.leave is None)):
            raise _invalid(f"rounds[{i}].advance: give exactly one of qualify or leave")
    contests = rounds[0].contests
    if len(set(contests)) != len(contests):
        raise _invalid("rounds[0].contests: a contest is listed twice")
