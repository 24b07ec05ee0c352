"""Who may call a route: bearer tokens, Litestar guards, and contest-bound claims.

Admin and results-reader checks are guards, declared on the routes they protect, so a
handler body never starts for a caller it would refuse. Voter, juror and aggregator
identities are dependencies that hand the handler verified claims.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.contests.read_tokens import ReadGrant
from service.core.errors import ApiError, forbidden, unauthorized
from service.runtime import runtime_of
from service.security.credentials import secrets_equal
from service.security.tokens import Claims, TokenSigner

Connection = ASGIConnection[Any, Any, Any, Any]


def bearer_token(connection: Connection) -> str | None:
    """The token from `Authorization: Bearer …`, the only place one is read from.

    Never from the URL: URLs are written to proxy and access logs, browser history
    and `Referer` headers. Websockets from a browser, which cannot send the header,
    use a single-use ticket instead (`security/ws_tickets.py`)."""
    return bearer_of(connection.headers.get("authorization"))


def bearer_of(header: str | None) -> str | None:
    """The token of an `Authorization` header's value, if it is a bearer one (the rule
    `bearer_token` and the vote lane, which reads raw ASGI headers, both apply)."""
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def no_bearer(token_in_query: bool) -> ApiError:
    """The 401 for a request without a bearer token; one sent in the URL is told why it
    was not read."""
    where = " (never in the URL)" if token_in_query else ""
    return unauthorized(f"send a token in 'Authorization: Bearer <token>'{where}")


def require_bearer(connection: Connection) -> str:
    token = bearer_token(connection)
    if token is None:
        raise no_bearer("token" in connection.query_params)
    return token


def contest_claims(connection: Connection, signer: TokenSigner, kind: type[Claims],
                   contest_id: str, what: str) -> Claims:
    """The verified claims of the bearer token (`what`: "voter token", "juror session"),
    which must be of `kind` and belong to `contest_id`."""
    return verified_claims(signer, require_bearer(connection), kind, contest_id, what)


def verified_claims(signer: TokenSigner, token: str, kind: type[Claims], contest_id: str,
                    what: str) -> Claims:
    """`token`'s claims, of `kind` and for `contest_id`, or the 401/403 that says why not."""
    claims = signer.verify(token, kind)
    if claims is None:
        raise unauthorized(f"{what} is invalid or expired")
    if claims.contest != contest_id:
        raise forbidden(f"this {what} belongs to another contest")
    return claims


def holds_admin_token(connection: Connection) -> bool:
    token = bearer_token(connection)
    admin_token = runtime_of(connection.app).settings.admin_token
    return token is not None and secrets_equal(token, admin_token)


def require_admin(connection: Connection) -> None:
    """The producer's admin token, or 401 (for a route whose admin need depends on a
    parameter; whole routes use the `admin_only` guard)."""
    require_bearer(connection)
    if not holds_admin_token(connection):
        raise unauthorized("the admin token is required")


def admin_only(connection: Connection, _: BaseRouteHandler) -> None:
    """Guard: the producer's admin token, or 401."""
    require_admin(connection)


async def results_reader(connection: Connection, _: BaseRouteHandler) -> None:
    """Guard: results are public unless RESULTS_TOKEN is set (the admin token and the
    contest's read tokens always read)."""
    if await results_access(connection) is None:
        raise unauthorized("a results token is required")


async def bearer_reader(connection: Connection, _: BaseRouteHandler) -> None:
    """Guard: a bearer token that reads results (`RESULTS_TOKEN`, a read token or the
    admin token; any token while results are public), or 401."""
    require_bearer(connection)
    if await results_access(connection) is None and await read_token_contest(connection) is None:
        raise unauthorized("a results token, a read token or the admin token is required")


async def read_token_contest(connection: Connection) -> str | None:
    """The contest of the live read token the request carries (`POST …/read-tokens`)."""
    grant = await read_token_grant(connection)
    return None if grant is None else grant.contest


async def read_token_grant(connection: Connection) -> ReadGrant | None:
    """The live read token the request carries: its contest and id."""
    token = bearer_token(connection)
    if token is None:
        return None
    return await runtime_of(connection.app).read_tokens.grant_of(token)


async def holds_read_token(connection: Connection) -> bool:
    """A live read token of the contest in the path."""
    contest = connection.path_params.get("cid")
    return contest is not None and await read_token_contest(connection) == contest


async def require_full_reader(connection: Connection) -> None:
    """The admin token or one of the contest's read tokens, or 401 (the full view)."""
    require_bearer(connection)
    if not holds_admin_token(connection) and not await holds_read_token(connection):
        raise unauthorized("the admin token or a read token of this contest is required")


async def results_access(connection: Connection) -> bool | None:
    """True for the full view (admin, the path's contest's read token), False for the
    public one, None when refused."""
    if holds_admin_token(connection) or await holds_read_token(connection):
        return True
    wanted = runtime_of(connection.app).settings.results_token
    token = bearer_token(connection)
    if wanted is None or (token is not None and secrets_equal(token, wanted)):
        return False
    return None
