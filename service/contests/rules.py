"""What makes a contest definition acceptable beyond its JSON types.

The scoring library validates the rules themselves, so a contest the API accepts is
one `scoring/` can score; the rest are uniqueness rules that types cannot express.
"""

from __future__ import annotations

from scoring import SheetError, validate_rules
from service.contests.models import Contest, ContestIn
from service.core.errors import ApiError


def check_definition(definition: ContestIn) -> None:
    """422 naming the offending field."""
    try:
        validate_rules(definition.rules)
    except SheetError as exc:
        raise ApiError(422, "invalid_rules", str(exc)) from None
    countries = [e.country for e in definition.entries]
    if len(set(countries)) != len(countries):
        raise ApiError(422, "duplicate_entry", "entries: each country may have one entry")
    orders = [e.running_order for e in definition.entries]
    if len(set(orders)) != len(orders):
        raise ApiError(422, "duplicate_running_order", "entries: running orders must differ")
    if len(set(definition.voting_countries)) != len(definition.voting_countries):
        raise ApiError(422, "duplicate_voting_country", "voting_countries: listed twice")
    if definition.jury_min_valid > definition.jury_size:
        raise ApiError(422, "invalid_jury_size", "jury_min_valid cannot exceed jury_size")
    if (definition.opens_at is not None and definition.closes_at is not None
            and definition.opens_at >= definition.closes_at):
        raise ApiError(422, "invalid_window", "opens_at must be before closes_at")


def check_voting_country(contest: Contest, country: str) -> None:
    if country not in contest.voting_countries:
        raise ApiError(
            422, "unknown_country", f"{country} is not a voting country of contest {contest.id}"
        )
