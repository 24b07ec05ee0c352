"""How each API route is documented: who may call it and every error it can answer.

An operator's client (Swagger's *Authorize*, a generated SDK, a gateway) needs to know
which token a route takes and which refusals to expect, and the document is only worth
reading if it says what the code does. So most of it follows from how a route is
declared rather than from a list kept beside it:

- its guards (`admin_only`, `results_reader`) and identity dependencies (`voter`,
  `juror`, `aggregator`) give its security schemes and their 401/403;
- a `data` parameter (a JSON body) gives 400 `invalid_body` / `body_too_large`, 408
  `request_timeout` for a body that does not arrive in time, and 415
  `unsupported_media_type` for one that is not sent as JSON;
- an `rt` parameter (it reaches PostgreSQL or Redis) gives 503 `unavailable`.

`@documented("castVote", {409: ["window_closed"]})` adds the operation id and only
what the route's own code refuses. Every error is the one body of
`service/core/errors.py`; the test suite checks that every error a route answered
while it ran is listed here (`tests/apidocs/`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example, Operation, Schema, SecurityRequirement, SecurityScheme

from service.core.errors import ErrorBody
from service.security.guards import admin_only, bearer_reader, results_reader

ADMIN, VOTER, JUROR, AGGREGATOR, RESULTS, READ, SMS_GATEWAY = (
    "adminToken", "voterToken", "jurorSession", "aggregatorKey", "resultsToken", "readToken",
    "smsGatewayKey")


def _bearer(description: str) -> SecurityScheme:
    return SecurityScheme(type="http", scheme="bearer", description=description)


SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    ADMIN: _bearer("The producer's `ADMIN_TOKEN`: contest set-up, jurors, the reveal, "
                   "checks, and the full results view."),
    VOTER: _bearer("A signed voter token from `POST …/voter-tokens` (the app backend) or "
                   "`POST …/device-token` (demo mode), bound to one contest and country."),
    JUROR: _bearer("A juror session from `POST /api/v1/jury/session` (a one-time access "
                   "code exchanged once); reissuing the code ends it."),
    AGGREGATOR: _bearer("An aggregator's API key from `POST …/aggregator-keys`, scoped to "
                        "one contest."),
    SMS_GATEWAY: SecurityScheme(
        type="http", scheme="basic",
        description="An aggregator key of the contest as HTTP Basic password (any user "
                    "name), as Kannel sends the `user:key@` of its `post-url`; "
                    "`Authorization: Bearer <key>` is accepted too (docs/sms.md)."),
    RESULTS: _bearer("`RESULTS_TOKEN`, when it is set; results are public otherwise. The "
                     "admin token always reads."),
    READ: _bearer("A read token from `POST …/read-tokens` (admin): the full results view "
                  "and websocket of one contest, whatever its `results_visibility`; "
                  "revocable."),
}

# What each refusal code means (the `code` of `{"error": {"code", "message"}}`).
ERROR_CODES: dict[str, str] = {
    "invalid_body": "the body or a parameter is not of the documented shape (a control "
                    "character in any string field, too)",
    "unsupported_media_type": "a body sent without `Content-Type: application/json`",
    "body_too_large": "the body is larger than `MAX_BODY_BYTES`",
    "request_timeout": "the body did not arrive within `BODY_TIMEOUT_S` of the head; the "
                       "connection is closed",
    "unauthorized": "no token, or not one this route accepts",
    "forbidden": "the token belongs to another contest, or the route is switched off",
    "not_found": "the contest (or juror, or ballot) does not exist",
    "rate_limited": "too many requests from this client or voter; slow down",
    "unavailable": "a store cannot answer right now; nothing was recorded, retry",
    "contest_exists": "a contest with this id exists",
    "invalid_rules": "the scoring rules are not valid",
    "duplicate_entry": "an entry (or a ranked entry) appears twice",
    "duplicate_running_order": "two entries share a running order",
    "duplicate_voting_country": "a voting country is listed twice",
    "invalid_jury_size": "`jury_min_valid` exceeds `jury_size`",
    "invalid_window": "`opens_at` is not before `closes_at`",
    "unknown_country": "the country does not vote in this contest",
    "unknown_entry": "the country has no entry in this contest",
    "own_country": "a country cannot vote for (or rank) its own entry",
    "window_closed": "audience voting is closed",
    "entry_disqualified": "the entry is disqualified: votes for it are not taken",
    "vote_cap_reached": "this voter has used every vote allowed",
    "country_mismatch": "this voter votes from another country in this contest (a voter is "
                        "bound to the first country it votes from)",
    "code_used": "the access code was already redeemed on another device",
    "ballot_locked": "the jury deadline has passed",
    "incomplete_ranking": "the ranking leaves out entries",
    "no_jury": "Rest of World votes by audience only",
    "window_open": "close audience voting before the reveal",
    "reveal_complete": "every reveal step has been shown",
    "sealed": "the contest's ledger is sealed: its window stays closed and nothing it "
              "covers may change",
    "not_sealed": "the contest's ledger is not sealed yet",
    "jury_not_locked": "lock the jury before sealing the ledger",
    "record_not_sealed": "the vote's ledger row no longer matches its sealed record",
    "result_frozen": "the official result is frozen (the reveal has begun)",
    "invalid_rule": "the void rule names no criterion, or its time range is empty",
    "reveal_started": "the reveal has started: the result is frozen, so voting cannot "
                      "be reopened",
    "running_order_mismatch": "the running order must list every entry exactly once",
    "already_disqualified": "the entry is disqualified already",
    "last_entry": "a contest keeps at least one entry in the running",
    "season_exists": "a season with this id exists",
    "invalid_season": "the season's rounds are not valid (see the message)",
    "unknown_contest": "a round names a contest that does not exist",
    "results_not_frozen": "a contest of the current round has no frozen result yet: start "
                          "its reveal (which freezes it) before advancing",
    "season_complete": "the season's last round has been reached: nothing to advance to",
}

Errors = Mapping[int, Sequence[str]]


@dataclass(frozen=True)
class Access:
    """Who may call a route declared a certain way, and how it refuses everyone else."""

    security: tuple[SecurityRequirement, ...]
    errors: Errors = field(default_factory=dict)


_TOKEN = {401: ["unauthorized"]}
_CONTEST_TOKEN = {401: ["unauthorized"], 403: ["forbidden"]}  # signed, bound to {cid}

GUARD_ACCESS: dict[Callable[..., Any], Access] = {
    admin_only: Access(({ADMIN: []},), _TOKEN),
    # `{}` first: public unless RESULTS_TOKEN is set
    results_reader: Access(({}, {RESULTS: []}, {READ: []}, {ADMIN: []}), _TOKEN),
    bearer_reader: Access(({RESULTS: []}, {READ: []}, {ADMIN: []}), _TOKEN),
}
IDENTITY_ACCESS: dict[str, Access] = {  # by the name of the dependency the handler takes
    "voter": Access(({VOTER: []},), _CONTEST_TOKEN),
    "juror": Access(({JUROR: []},), _CONTEST_TOKEN),
    "aggregator": Access(({AGGREGATOR: []},), _CONTEST_TOKEN),
    "gateway": Access(({SMS_GATEWAY: []}, {AGGREGATOR: []}), _CONTEST_TOKEN),
}
BODY_ERRORS: Errors = {400: ["invalid_body", "body_too_large"],
                       408: ["request_timeout"],  # service/core/http_timeouts.py
                       415: ["unsupported_media_type"]}  # security/request_shape.py
STORE_ERRORS: Errors = {503: ["unavailable"]}


def route_access(handler: HTTPRouteHandler) -> list[Access]:
    """The guards and identity dependencies declared on the route itself."""
    found = [GUARD_ACCESS[g] for g in handler.guards or [] if g in GUARD_ACCESS]
    found += [IDENTITY_ACCESS[name] for name in handler.dependencies or {}
              if name in IDENTITY_ACCESS]
    return found


def route_errors(handler: HTTPRouteHandler, errors: Errors) -> dict[int, list[str]]:
    """Every status the route can refuse with and the codes of each, in status order."""
    parameters = inspect.signature(handler.fn).parameters
    sources: list[Errors] = [access.errors for access in route_access(handler)]
    if "data" in parameters:
        sources.append(BODY_ERRORS)
    if "rt" in parameters:
        sources.append(STORE_ERRORS)
    sources.append(errors)
    merged: dict[int, list[str]] = {}
    for source in sources:
        for status, codes in source.items():
            known = merged.setdefault(status, [])
            known += [code for code in codes if code not in known]
    return dict(sorted(merged.items()))


def error_response(status: int, codes: Sequence[str]) -> ResponseSpec:
    """One error status: the shared body, what each of its codes means, an example each."""
    meanings = "".join(f"\n- `{code}`: {ERROR_CODES[code]}" for code in codes)
    return ResponseSpec(
        ErrorBody, generate_examples=False,
        description=f"{HTTPStatus(status).phrase}, with `code`:{meanings}",
        examples=[Example(summary=code,
                          value={"error": {"code": code, "message": ERROR_CODES[code]}})
                  for code in codes],
    )


def _is_litestar_error_body(schema: object) -> bool:
    properties = getattr(schema, "properties", None) or {}
    return isinstance(schema, Schema) and {"status_code", "detail"} <= set(properties)


@dataclass
class DocumentedOperation(Operation):
    """An operation without Litestar's default error responses.

    Litestar documents a 400 with its own `{"status_code", "detail", "extra"}` body for
    every operation with parameters; this service never answers that body (its
    exception handlers answer `ErrorBody`) and the routes document their real
    statuses, so such responses are dropped.
    """

    def __post_init__(self) -> None:
        if not self.responses:
            return
        self.responses = {
            status: response for status, response in self.responses.items()
            if not any(_is_litestar_error_body(getattr(media, "schema", None))
                       for media in (getattr(response, "content", None) or {}).values())
        }


def documented(operation_id: str, errors: Errors | None = None
               ) -> Callable[[HTTPRouteHandler], HTTPRouteHandler]:
    """Decorator over a route decorator: operation id, security and error responses.

    `errors` lists only what the route's own code refuses (404, 409, 422, 429…); the
    rest follows from its declaration (see the module docstring). Responses given on
    the route decorator itself (a different body, e.g. a health report's 503) win.
    """

    def apply(handler: HTTPRouteHandler) -> HTTPRouteHandler:
        handler.operation_id = operation_id
        access = route_access(handler)
        if access:
            handler.security = [req for a in access for req in a.security]
        responses = {status: error_response(status, codes)
                     for status, codes in route_errors(handler, errors or {}).items()}
        responses.update(handler.responses or {})
        handler.responses = dict(sorted(responses.items()))
        handler.operation_class = DocumentedOperation
        return handler

    return apply
