"""What makes a ballot acceptable, and its canonical hash for the scrutineer."""

from __future__ import annotations

import hashlib
from collections import Counter

import msgspec

from service.contests.models import Contest
from service.core.errors import ApiError


def check_ranking(contest: Contest, juror_country: str, ranking: list[str]) -> None:
    """A ballot ranks every entry except the juror's own country, each exactly once."""
    entries = contest.entry_countries()
    for country in ranking:
        if country == juror_country:
            raise ApiError(422, "own_country", f"a juror from {country} cannot rank {country}")
        if country not in entries:
            raise ApiError(422, "unknown_entry", f"{country} has no entry in this contest")
    duplicates = sorted(country for country, n in Counter(ranking).items() if n > 1)
    if duplicates:
        raise ApiError(422, "duplicate_entry", f"ranked more than once: {', '.join(duplicates)}")
    missing = sorted(entries - {juror_country} - set(ranking))
    if missing:
        raise ApiError(422, "incomplete_ranking", f"not ranked: {', '.join(missing)}")


def ballot_hash(contest_id: str, juror_id: str, ranking: list[str]) -> str:
    """SHA-256 of the canonical ballot JSON (sorted keys, no spaces)."""
    canonical = msgspec.json.encode(
        {"contest": contest_id, "juror": juror_id, "ranking": ranking}, order="sorted"
    )
    return hashlib.sha256(canonical).hexdigest()
