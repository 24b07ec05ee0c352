"""Requests refused by their shape, before routing: control characters in the path,
and bodies that do not say they are JSON.

- A path (percent-decoded) with a control character names nothing this service
  has, and its `{cid}` would reach PostgreSQL, which refuses a NUL with an error
  that used to surface as a 500: `400 invalid_path`.
- Every request body of the API is JSON. A body sent as `text/plain` (or with no
  content type) is what an HTML form or a `fetch` without preflight sends from
  another origin, so accepting it lets any web page post to the API from a
  viewer's browser: `415 unsupported_media_type` unless the content type is
  `application/json` or `application/<something>+json`. The one exception is the SMS
  gateway's route (`…/sms`, service/sms/api.py): Kannel posts the message as
  `text/plain`, and the route takes only requests with an `Authorization` header,
  which no form or preflight-free `fetch` can send.

Both checks run on every request, so they are written for the common case: one regex
search of the path, and one pass over the header list only for methods with a body.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from service.core.errors import ErrorBody, ErrorDetail

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

_CONTROL_IN_PATH = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_SMS_ROUTE = "/sms"  # POST /api/v1/contests/{cid}/sms: a gateway's text/plain SMS
_JSON_TYPE = re.compile(rb"\s*application/(?:[\w.+-]*\+)?json\s*(?:;|$)", re.IGNORECASE)


def _refusal(status: int, code: str, message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = msgspec.json.encode(ErrorBody(ErrorDetail(code, message)))
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


INVALID_PATH = _refusal(400, "invalid_path", "the path holds a control character")
NOT_JSON = _refusal(415, "unsupported_media_type",
                    "send request bodies as JSON, with 'Content-Type: application/json'")


def body_is_not_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request has a body whose content type is not JSON."""
    content_type = None
    has_body = False
    for name, value in headers:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            has_body = has_body or value.strip() not in (b"0", b"")
        elif name == b"transfer-encoding":
            has_body = True
    return has_body and (content_type is None or not _JSON_TYPE.match(content_type))


def http_refusal(scope: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The refusal an HTTP request's shape earns (its start and body messages), or None.
    The vote lane (`intake/lane.py`) asks this too, as it answers votes before this
    middleware would see them."""
    if _CONTROL_IN_PATH.search(scope["path"]):
        return INVALID_PATH
    if scope["method"] in _BODY_METHODS and not scope["path"].endswith(_SMS_ROUTE) \
            and body_is_not_json(scope["headers"]):
        return NOT_JSON
    return None


def request_shape_check(app: ASGIApp) -> ASGIApp:
    """`app` behind the two refusals above (HTTP; a websocket upgrade with a control
    character in its path is refused with 403 before it is accepted)."""

    async def check(scope: Any, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            refusal = http_refusal(scope)
            if refusal is not None:
                start, body = refusal
                # a fresh header list each time: the request observer appends its
                # X-Request-ID to the list it is handed (a shared one grew without end)
                await send({**start, "headers": list(start["headers"])})
                await send(body)
                return
        elif kind == "websocket" and _CONTROL_IN_PATH.search(scope["path"]):
            await send({"type": "websocket.close", "code": 1008})
            return
        await app(scope, receive, send)

    return check
