"""The contest rules a vote must meet before it reaches the ledger, and their refusals.

The ledger function decides what needs the ledger's state (window, duplicates, caps);
these need only the cached contest, so a bad vote costs no round trip.
"""

from __future__ import annotations

from service.contests.models import Contest
from service.core.errors import ApiError

# A voter's cap holds for the whole contest, so no wait helps; a day (a voter token's
# default life) tells a client that honours Retry-After not to try again tonight.
CAP_RETRY_AFTER_S = 24 * 3600

_REFUSALS: dict[str, tuple[int, str]] = {
    "window_closed": (409, "voting is closed for this contest"),
    "vote_cap_reached": (429, "this voter has used every vote allowed"),
    "not_found": (404, "contest not found"),
    "country_mismatch": (409, "this voter votes from another country in this contest"),
    "entry_disqualified": (409, "this entry is disqualified: votes for it are not taken"),
}


def entry_refusal(contest: Contest, country: str, entry: str) -> str | None:
    """The rule a vote for `entry` from `country` breaks before it reaches the ledger."""
    if entry not in contest.entry_countries():
        return "unknown_entry"
    if entry == country:
        return "own_country"
    if country not in contest.voting_countries:
        return "unknown_country"
    if contest.disqualified and entry in contest.disqualified:
        # its votes would count for no one: refused, so the voter keeps the vote
        return "entry_disqualified"
    return None


def refuse(code: str, entry: str) -> ApiError:
    if code in _REFUSALS:
        status, message = _REFUSALS[code]
        return ApiError(status, code, message,
                        CAP_RETRY_AFTER_S if code == "vote_cap_reached" else None)
    messages = {
        "unknown_entry": f"{entry} has no entry in this contest",
        "own_country": "a country cannot vote for its own entry",
        "unknown_country": "the token's country does not vote in this contest",
    }
    return ApiError(422, code, messages.get(code, code))
