"""The rehearsal contest: the real contest's definition under a new id.

Only the definition is copied (entries, voting countries, rules, cap, jury size,
visibility); the schedule is not, since a rehearsal runs now, and no vote, ballot or
audit event of the real contest is read or written.
"""

from __future__ import annotations

from typing import Any

from service.rehearsal.api import RehearsalApi, RehearsalError

DEFINITION_FIELDS = ("name", "entries", "voting_countries", "rules", "vote_cap",
                     "jury_size", "jury_min_valid", "results_visibility")
MAX_COPIES = 999
MAX_ID = 63


def rehearsal_id(contest_id: str, n: int) -> str:
    """`<cid>-rehearsal-<n>`, the contest id shortened if needed to stay a valid id."""
    suffix = f"-rehearsal-{n}"
    return contest_id[: MAX_ID - len(suffix)] + suffix


def rehearsal_definition(contest: dict[str, Any], new_id: str) -> dict[str, Any]:
    body = {field: contest[field] for field in DEFINITION_FIELDS if field in contest}
    body["id"] = new_id
    body["name"] = f"{contest['name']} (rehearsal)"[:200]
    return body


async def copy_contest(api: RehearsalApi, contest_id: str) -> tuple[dict[str, Any], str]:
    """(the real contest as read, the new rehearsal contest's id): the first free n."""
    contest = await api.admin("GET", f"/api/v1/contests/{contest_id}")
    for n in range(1, MAX_COPIES + 1):
        new_id = rehearsal_id(contest_id, n)
        status, data = await api.call("POST", "/api/v1/contests",
                                      rehearsal_definition(contest, new_id))
        if status == 201:
            return contest, str(data["id"])
        if status != 409:
            raise RehearsalError(f"copying {contest_id}: {status} {data}")
    raise RehearsalError(f"{contest_id} has {MAX_COPIES} rehearsals already")
