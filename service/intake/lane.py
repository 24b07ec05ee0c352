"""The vote lane: `POST /api/v1/contests/{cid}/votes` answered beside the framework.

Why it exists: a single vote does one token check, one dict lookup of the contest and
one trip to the committer, yet Litestar's generic path (routing, a Request object,
dependency resolution for `rt` and the voter, signature-model validation, a Response
object and its header assembly) cost about as much CPU as the vote's own work. At a
televote peak that is the largest bill of the service tier (docs/scaling.md).

The lane is the app uvicorn serves (`create_served_app()` in `service/app.py`: the lane
in front of the Litestar app), and a `DirectApp`: the HTTP protocol hands it each vote
with the body already read and takes its answer in one write (`core/http_direct.py`), so
a vote passes neither uvicorn's ASGI `receive` and `send`, nor Litestar's entry point,
nor the three middlewares around the router. Each of those was a coroutine layer, a
`send` wrapper or both (issue 21's profiles).
What the middlewares do for every request, the lane does for its votes by calling their
own functions, in their order: the client address behind trusted proxies
(`security/client_address.py`), the request id, latency series and access line
(`core/logs.py`), then the refusals by shape (`security/request_shape.py`).

Under a server other than `SlowClientProtocol`, nothing is answered directly and votes
take the framework's route.

What it must keep (and `tests/service/test_vote_lane.py` checks against the framework's
own answers): the same status codes and error bodies, the same auth and limits (it
calls `intake/single_vote.py`, which the Litestar route calls too), the same metrics and
access lines (it names its route template as the router would), CORS, and the OpenAPI
entry (the Litestar route stays declared, and answers whenever the lane is off:
`VOTE_LANE=false`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import msgspec
from litestar.config.cors import CORSConfig
from litestar.types import ASGIApp, Receive, Send

from service.core.errors import (
    RETRY_AFTER_DEFAULT_S,
    STORE_ERRORS,
    UNAVAILABLE,
    ApiError,
    ErrorBody,
    ErrorDetail,
    body_too_large,
)
from service.core.http_direct import DirectApp, DirectHandler, Exchange
from service.core.logs import request_done
from service.core.request_context import REQUEST_ID_HEADER, bind, request_id_of
from service.intake.models import VoteIn
from service.intake.single_vote import cast_vote
from service.runtime import Runtime
from service.security.client_address import ClientAddressRule
from service.security.guards import bearer_of, no_bearer, verified_claims
from service.security.request_shape import http_refusal
from service.security.tokens import VoterClaims

log = logging.getLogger("silkvote.intake.lane")

ROUTE = "/api/v1/contests/{cid}/votes"
_PREFIX = "/api/v1/contests/"
_SUFFIX = "/votes"
_JSON = (b"content-type", b"application/json")
_EMPTY = object()  # no body at all: the framework reports it with the fields, not as JSON


class _Refusal(Exception):
    """A body the framework would refuse before any dependency ran."""

    def __init__(self, message: str) -> None:
        self.message = message


class VoteLane(DirectApp):
    """The served app: single votes answered directly, every other request (and every
    request when not served by `SlowClientProtocol`) by the wrapped app."""

    def __init__(self, app: ASGIApp, runtime: Callable[[], Runtime], max_body: int,
                 cors: CORSConfig, client_rule: ClientAddressRule | None) -> None:
        self.app = app
        self._client_rule = client_rule
        self._runtime = runtime
        self._cached: Runtime | None = None
        self._max_body = max_body
        self._cors_config = cors
        simple = {**cors.simple_headers,
                  "access-control-allow-headers": ", ".join(sorted(set(cors.allow_headers))),
                  "access-control-allow-methods": ", ".join(sorted(set(cors.allow_methods)))}
        self._cors_simple = [(k.lower().encode(), v.encode()) for k, v in simple.items()]
        self._encode = msgspec.json.Encoder().encode
        self._typed = msgspec.json.Decoder(VoteIn, strict=False).decode

    def __call__(self, scope: Any, receive: Receive, send: Send) -> Awaitable[None]:
        """The wrapped app's awaitable, not a coroutine of this one: a request that is not
        answered directly pays one call here, not one more frame to suspend and resume."""
        return self.app(scope, receive, send)

    def direct(self, scope: Any) -> DirectHandler | None:
        """`POST /api/v1/contests/{cid}/votes`, matched as the router would match it."""
        if scope["method"] == "POST":
            path = scope["path"]
            if path.endswith(_SUFFIX) and path.startswith(_PREFIX):
                cid = path[len(_PREFIX):-len(_SUFFIX)]
                if cid and "/" not in cid:
                    return functools.partial(self._vote, cid=cid)
        return None

    async def _vote(self, exchange: Exchange, cid: str) -> None:
        """The outer middlewares' work for this request, then the vote (class docstring),
        with `cast_vote` the only coroutine frames a vote passes: it suspends once, on
        the committer's future."""
        scope = exchange.scope
        if self._client_rule is not None:
            self._client_rule.rewrite(scope)
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        token = bind(scope, request_id)
        status = 500
        try:
            refusal = http_refusal(scope)
            if refusal is not None:
                start, end = refusal
                status, headers, body = start["status"], list(start["headers"]), end["body"]
            else:
                scope["path_template"] = ROUTE  # as the router sets it: metrics, log lines
                scope["path_params"] = {"cid": cid}
                retry_after: int | None = None
                try:
                    # the framework's order: JSON syntax, then the voter's claims (a
                    # dependency), then the body's fields (its signature model)
                    body = exchange.complete_body()
                    if body is None:
                        body = await self._body(exchange.receive)
                    elif len(body) > self._max_body:
                        raise body_too_large()
                    data = self._fast_decode(body)  # one typed pass when the body is good
                    if data is None:
                        raw = self._parse(body)
                    voter, bearer = self._claims(scope, cid)
                    if data is None:
                        data = self._convert(raw, scope)
                    client = scope.get("client")
                    status, out = await cast_vote(self._rt(), cid, data, voter,
                                                  client[0] if client else None, bearer)
                    body = self._encode(out)
                except Exception as exc:  # each kind is answered in _failed
                    status, body, retry_after = self._failed(exc, scope)
                headers = self._headers(scope, body, retry_after)
            headers.append((REQUEST_ID_HEADER, request_id.encode()))
            await exchange.drain()
            exchange.respond(status, headers, body)
        finally:
            request_done(scope, status, started, token)

    def _headers(self, scope: Any, body: bytes, retry_after: int | None
                 ) -> list[tuple[bytes, bytes]]:
        """The response headers of a vote's answer, CORS included."""
        headers = [_JSON, (b"content-length", str(len(body)).encode())]
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        self._cors(scope["headers"], headers)
        return headers

    def _failed(self, exc: Exception, scope: Any) -> tuple[int, bytes, int | None]:
        """(status, error body, Retry-After seconds or None) of a vote that failed."""
        if isinstance(exc, ApiError):
            # as core/errors.error_response: every 429 says when
            retry = (exc.retry_after_s or RETRY_AFTER_DEFAULT_S) if exc.status == 429 else None
            return exc.status, self._error(exc.code, exc.message), retry
        if isinstance(exc, _Refusal):
            return 400, self._error("invalid_body", exc.message), None
        if isinstance(exc, STORE_ERRORS):
            log.warning("store unavailable on POST %s: %s", scope["path"], exc)
            return 503, self._error("unavailable", UNAVAILABLE), None
        log.error("unhandled error on POST %s", scope["path"], exc_info=exc)
        return 500, self._error("internal_error", "internal error; the incident was logged"), None

    async def _body(self, receive: Callable[[], Awaitable[Any]]) -> bytes:
        """The body read part by part, when it had not all come with the head."""
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message: Any = await receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, "invalid_body", "the client went away mid-body")
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise body_too_large()
            chunks.append(chunk)
            more = message.get("more_body", False)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _rt(self) -> Runtime:
        """The process's runtime, looked up once: it is built before the first request
        (the lifespan) and lives as long as the app."""
        if self._cached is None:
            self._cached = self._runtime()
        return self._cached

    def _fast_decode(self, body: bytes) -> VoteIn | None:
        """The vote, if the body decodes straight into one; None sends it the framework's
        two-step way, so a bad body is reported exactly as the framework reports it."""
        try:
            return self._typed(body)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None

    @staticmethod
    def _parse(body: bytes) -> Any:
        if not body:
            return _EMPTY
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise _Refusal(str(exc)) from None

    def _convert(self, raw: Any, scope: Any) -> VoteIn:
        """As Litestar's signature model converts a msgspec body: laxly, each error named
        by its field (`data` for the body as a whole)."""
        if raw is _EMPTY:
            raise self._invalid(scope, "data", "'data'")
        try:
            return msgspec.convert(raw, VoteIn, strict=False, str_keys=True)
        except msgspec.ValidationError as exc:
            text, _, where = str(exc).partition(" - at `$.")
            raise self._invalid(scope, where.rstrip("`").split("[")[0] or "data",
                                text.split(" - ", 1)[0]) from None

    @staticmethod
    def _invalid(scope: Any, key: str, text: str) -> _Refusal:
        query = scope.get("query_string", b"")
        path = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        return _Refusal(f"Validation failed for POST {path}: {key}: {text}")

    def _claims(self, scope: Any, cid: str) -> tuple[VoterClaims, str]:
        """The verified claims of the bearer token, and the token: the rules of the
        framework route's `voter_claims` (`security/guards.py`), on raw ASGI headers."""
        header = next((value.decode("latin-1") for name, value in scope["headers"]
                       if name == b"authorization"), None)
        token = bearer_of(header)
        if token is None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"),
                             keep_blank_values=True)
            raise no_bearer("token" in query)
        return verified_claims(self._rt().signer, token, VoterClaims, cid, "voter token"), token

    def _cors(self, headers: list[tuple[bytes, bytes]], out: list[tuple[bytes, bytes]]) -> None:
        """What Litestar's CORS middleware adds to the answer of a cross-origin request."""
        origin = cookie = None
        for name, value in headers:
            if name == b"origin":
                origin = value
            elif name == b"cookie":
                cookie = value
        if origin is None:
            return
        config = self._cors_config
        out.extend(self._cors_simple)
        if (config.is_allow_all_origins and cookie is not None) or (
                not config.is_allow_all_origins
                and config.is_origin_allowed(origin.decode("latin-1"))):
            out[:] = [h for h in out if h[0] != b"access-control-allow-origin"]
            out.append((b"access-control-allow-origin", origin))
            out.append((b"vary", b"Origin"))

    def _error(self, code: str, message: str) -> bytes:
        return self._encode(ErrorBody(ErrorDetail(code, message)))
