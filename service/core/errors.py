"""The one error shape every client sees: `{"error": {"code": ..., "message": ...}}`.

Handlers raise `ApiError` (or a framework exception); the exception handlers here turn
all of them into that body so graphics vendors and aggregators can branch on `code`.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
import redis.exceptions
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

log = logging.getLogger("silkvote.errors")


class ErrorDetail(msgspec.Struct):
    code: str
    message: str


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


class ApiError(Exception):
    """A refusal with an HTTP status and a machine-readable snake_case code.

    `retry_after_s` is sent as `Retry-After` (every 429 carries one: a client that
    honours it backs off by itself instead of hammering)."""

    def __init__(self, status: int, code: str, message: str,
                 retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s


RETRY_AFTER_DEFAULT_S = 1  # a 429 that names no wait of its own


def invalid_body(message: str) -> ApiError:
    return ApiError(400, "invalid_body", message)


def body_too_large() -> ApiError:
    """A body over MAX_BODY_BYTES (the API contract lists it under 400, not 413)."""
    return ApiError(400, "body_too_large", "request body is too large")


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def unauthorized(message: str = "missing or invalid token") -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(message: str = "this token may not do that") -> ApiError:
    return ApiError(403, "forbidden", message)


UNAVAILABLE = "the ledger cannot take writes right now; nothing was recorded"


def unavailable(message: str = UNAVAILABLE) -> ApiError:
    return ApiError(503, "unavailable", message)


_FRAMEWORK_CODES = {
    400: "invalid_body",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(status: int, code: str, message: str,
                   retry_after_s: int | None = None) -> Response[bytes]:
    body = msgspec.json.encode(ErrorBody(ErrorDetail(code, message)))
    if status == 429 and retry_after_s is None:
        retry_after_s = RETRY_AFTER_DEFAULT_S
    headers = None if retry_after_s is None else {"Retry-After": str(retry_after_s)}
    return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)


def handle_api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[bytes]:
    return error_response(exc.status, exc.code, exc.message, exc.retry_after_s)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Framework refusals (routing, body decoding, size limits) in our error shape."""
    status = exc.status_code
    if status == 413:
        return handle_api_error(request, body_too_large())
    message = exc.detail or "request refused"
    if isinstance(exc, ValidationException) and exc.extra:
        message = f"{message}: {_describe_validation(exc.extra)}"
    if status >= 500:
        log.error("server error on %s %s: %s", request.method, request.url.path, message)
    return error_response(status, _FRAMEWORK_CODES.get(status, "error"), message)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Anything unplanned: log it with the traceback, answer 500 without internals."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error; the incident was logged")


def _describe_validation(extra: object) -> str:
    if isinstance(extra, list):
        parts = []
        for item in extra:
            if isinstance(item, dict):
                where = item.get("key")
                text = str(item.get("message", item))
                parts.append(f"{where}: {text}" if where else text)
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(extra)


def handle_store_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A store is down, restarting or too slow: 503, and nothing was recorded."""
    log.warning("store unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "unavailable", UNAVAILABLE)


def handle_too_deep(_: Request[Any, Any, Any], __: RecursionError) -> Response[bytes]:
    """The JSON decoder refuses absurd nesting by recursion limit: that is bad input."""
    return error_response(400, "invalid_body", "request body nests too deeply")


STORE_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # includes TimeoutError and ConnectionError
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    RecursionError: handle_too_deep,
    **dict.fromkeys(STORE_ERRORS, handle_store_unavailable),
    Exception: handle_unexpected,
}
