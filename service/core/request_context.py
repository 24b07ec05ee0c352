"""Which request (and which contest) the code running now serves, for its log lines.

One context variable holds the ASGI scope of the request in progress. The request id is
put into that scope's `state` when the request arrives; the contest is the route's
`{cid}`, which Litestar's router writes into the same scope once it has matched the
route. Both are read only when a record is actually written, so a request whose lines
are all filtered out pays for one `ContextVar.set` and its id, nothing more.

Asyncio copies the context into every task it creates, so the work a request starts
(and the lines it logs) keeps the request's id even after an `await`.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterable
from contextvars import ContextVar, Token
from typing import Any

REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID_STATE = "request_id"
MAX_REQUEST_ID = 64
_TOKEN_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

_scope: ContextVar[Any] = ContextVar("silkvote_request_scope", default=None)


class _IdSource:
    """Request ids as `<process prefix>-<counter>`: unique across processes and restarts
    (the prefix is random per process) and far cheaper than a UUID per request."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = secrets.token_hex(6) + "-"
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):x}"


_ids = _IdSource()
os.register_at_fork(after_in_child=_ids.reset)  # a forked worker must not repeat ids


def sane_request_id(raw: bytes) -> str | None:
    """A client's `X-Request-ID` if it is a token we can log as it is (1-64 characters
    of `[A-Za-z0-9._-]`): anything else could forge log structure or bloat every line."""
    if not 0 < len(raw) <= MAX_REQUEST_ID or raw.translate(None, _TOKEN_CHARS):
        return None
    return raw.decode("ascii")


def request_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The request's id: the client's `X-Request-ID` when sane, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            given = sane_request_id(value)
            if given is not None:
                return given
            break
    return _ids.next()


def bind(scope: Any, request_id: str) -> Token[Any]:
    """Make `scope` the current request (until `unbind` with the returned token)."""
    scope["state"][REQUEST_ID_STATE] = request_id
    return _scope.set(scope)


def unbind(token: Token[Any]) -> None:
    _scope.reset(token)


def current_scope() -> Any:
    """The ASGI scope of the request being served here, or None outside any request."""
    return _scope.get()


def request_id_in(scope: Any) -> str | None:
    return scope["state"].get(REQUEST_ID_STATE)  # type: ignore[no-any-return]


def contest_in(scope: Any) -> str | None:
    """The contest id in the request's route (`{cid}`), once the router has matched it."""
    params = scope.get("path_params")
    return params.get("cid") if params else None


def current_request_id() -> str | None:
    """The id of the request being served here, or None outside any request."""
    scope = _scope.get()
    return None if scope is None else request_id_in(scope)


def current_contest() -> str | None:
    """The contest of the request being served here, if its route names one."""
    scope = _scope.get()
    return None if scope is None else contest_in(scope)
