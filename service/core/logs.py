"""Structured logs: one JSON object per line on stderr, easy to grep and to ship.

Requests are logged one line each at debug level; warnings and errors always.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.core.metrics import REQUESTS

_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return msgspec.json.encode(line, enc_hook=str).decode()


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("silkvote").setLevel(level.upper())
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


request_log = logging.getLogger("silkvote.request")
_request_series: dict[tuple[str, str, int], Any] = {}  # labelled histogram children, reused


def request_observer(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: latency histogram per route template, plus a debug log line."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - started
            handler = scope.get("route_handler")
            route = next(iter(handler.paths), scope["path"]) if handler else "unmatched"
            method = str(scope.get("method", ""))
            series = (method, route, status)
            child = _request_series.get(series)
            if child is None:
                child = REQUESTS.labels(method, route, str(status))
                if len(_request_series) < 4096:  # odd methods must not grow it without end
                    _request_series[series] = child
            child.observe(elapsed)
            if request_log.isEnabledFor(logging.DEBUG):
                request_log.debug("request", extra={
                    "method": method, "path": scope["path"], "status": status,
                    "ms": round(elapsed * 1000, 2),
                })

    return middleware
