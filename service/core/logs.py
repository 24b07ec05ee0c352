"""Logs: one record per line on stderr, from every logger of the process.

`LOG_FORMAT=json` (the default) writes each record as one JSON object, for a log
shipper; `console` writes one readable line, for a developer's terminal. Both come from
one `logging.config.dictConfig` dictionary, `logging_config()`, which every party that
configures logging is handed: uvicorn (`log_config`, applied again in each worker
process) and `create_app()`. Litestar is told not to configure logging at all
(`logging_config=None`): its default would put its own text handler on the root logger.

Every record carries the request id and the contest of the request it was logged in
(see `request_context`). `request_observer` writes the access line of each request at
info level (uvicorn's own access log is off: it knows no request id, and logs the query
string, where tokens may travel), and times it for the metrics.
"""

from __future__ import annotations

import logging
import logging.config
import time
from collections.abc import Mapping
from contextvars import Token
from typing import Any

import msgspec
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.core.metrics import REQUESTS
from service.core.request_context import (
    REQUEST_ID_HEADER,
    bind,
    contest_in,
    current_scope,
    request_id_in,
    request_id_of,
    unbind,
)

LOG_FORMATS = ("json", "console")
_STANDARD = {*vars(logging.makeLogRecord({})), "message", "asctime", "taskName",
             "color_message"}  # uvicorn's ANSI-coloured copy of the message
_PLAIN_RECORD = len(vars(logging.makeLogRecord({})))  # a record without `extra=` fields
_TRACEBACKS = logging.Formatter()


class _Clock:
    """`created` as ISO 8601 UTC with milliseconds; the seconds part is formatted once
    per second, not once per record."""

    def __init__(self) -> None:
        self._second = (-1, "")

    def iso(self, created: float) -> str:
        whole = int(created)
        second, text = self._second
        if whole != second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
            self._second = (whole, text)  # one assignment: safe across threads
        return f"{text}.{int((created - whole) * 1000):03d}Z"


def record_fields(record: logging.LogRecord, clock: _Clock) -> dict[str, Any]:
    """The fields of one record: time, level, logger, message, request id and contest
    when logged inside a request, the exception text, then the record's own fields
    (`extra=` keys, and the keys of a mapping given as the only argument)."""
    fields: dict[str, Any] = {
        "time": clock.iso(record.created),
        "level": record.levelname.lower(),
        "logger": record.name,
        "message": record.getMessage(),
    }
    scope = current_scope()
    if scope is not None:
        fields["request_id"] = request_id_in(scope)
        contest = contest_in(scope)
        if contest is not None:
            fields["contest"] = contest
    fields["pid"] = record.process
    args = record.args
    if isinstance(args, Mapping):
        _add_fields(fields, args)
    own = record.__dict__
    if len(own) > _PLAIN_RECORD:  # `extra=` fields (the set difference runs in C)
        _add_fields(fields, {key: own[key] for key in own.keys() - _STANDARD})
    if record.exc_info and not record.exc_text:
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        fields["exception"] = record.exc_text
    if record.stack_info:
        fields["stack"] = record.stack_info
    return fields


def _add_fields(fields: dict[str, Any], more: Mapping[Any, Any]) -> None:
    """`more` after the fields there are, which it may not replace."""
    if fields.keys().isdisjoint(more.keys()):
        fields.update(more)
        return
    for key, value in more.items():
        fields.setdefault(str(key), value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record; newlines inside (tracebacks) are escaped by JSON."""

    def __init__(self) -> None:
        super().__init__()
        self._clock = _Clock()
        self._encoder = msgspec.json.Encoder(enc_hook=str)

    def format(self, record: logging.LogRecord) -> str:
        return self._encoder.encode(record_fields(record, self._clock)).decode()


class ConsoleFormatter(logging.Formatter):
    """`time level logger [request contest] message key=value …` on one line: a
    traceback or a multi-line message is folded (`\\n` shown as ` ⏎ `), so one record
    stays one line for grep and for the eye."""

    _CORE = ("time", "level", "logger", "message", "request_id", "contest", "exception",
             "pid")

    def __init__(self) -> None:
        super().__init__()
        self._clock = _Clock()

    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record, self._clock)
        where = " ".join(str(fields[k]) for k in ("request_id", "contest") if k in fields)
        parts = [fields["time"], f"{fields['level'].upper():<8}", fields["logger"]]
        if where:
            parts.append(f"[{where}]")
        parts.append(fields["message"])
        shown = record.args if isinstance(record.args, Mapping) else ()  # in the message
        parts += [f"{k}={v}" for k, v in fields.items() if k not in self._CORE
                  and k not in shown]
        if "exception" in fields:
            parts.append(f"exception={fields['exception']}")
        return " ".join(parts).replace("\r", "").replace("\n", " \u23ce ")


class QueryStringScrubber(logging.Filter):
    """Drops the query string from uvicorn's websocket lines (`"WebSocket /ws/…?ticket=…"
    [accepted]`): tokens may travel there, and logs are read by many."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (isinstance(args, tuple) and len(args) >= 2 and isinstance(args[1], str)
                and "?" in args[1] and isinstance(record.msg, str)
                and "WebSocket %s" in record.msg):
            record.args = (args[0], args[1].partition("?")[0], *args[2:])
        return True


def logging_config(level: str, log_format: str = "json") -> dict[str, Any]:
    """The whole logging setup as a `dictConfig` dictionary (plain data, so uvicorn can
    hand it to the worker processes it spawns). Every logger, ours and the libraries',
    reaches the one stderr handler through the root logger."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    level = level.upper()
    formatter = JsonFormatter if log_format == "json" else ConsoleFormatter
    through_root = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,  # module-level loggers exist before this runs
        "filters": {"no_query": {"()": f"{__name__}.QueryStringScrubber"}},
        "formatters": {"line": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "line", "filters": ["no_query"]}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's and Litestar's own setups give these handlers of their own, with
            # propagation off; here they propagate to the root like every other logger.
            "uvicorn": {"level": level, **through_root},
            "uvicorn.error": {"level": level, **through_root},
            # off (no handler, no propagation: uvicorn then skips building its lines):
            # silkvote.access has the request id, and no query string, where tokens go
            "uvicorn.access": {"handlers": [], "propagate": False},
            "litestar": {"level": level, **through_root},
            # the websocket library logs every frame at debug: never wanted in a show
            "websockets": {"level": "INFO" if level == "DEBUG" else level, **through_root},
        },
    }


def configure_logging(level: str, log_format: str = "json") -> None:
    """Apply `logging_config` to this process (idempotent; each worker runs it)."""
    logging.config.dictConfig(logging_config(level, log_format))
    # Record attributes no line shows, each a cost on every record (the logging HOWTO's
    # "Optimization" list): the caller's file and line (a stack walk), thread and
    # process names. The pid stays: it tells the workers apart.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging.captureWarnings(True)  # `warnings.warn` becomes a record, not a bare line


access_log = logging.getLogger("silkvote.access")
_ACCESS_LINE = "%(method)s %(path)s %(status)d %(duration_ms).1fms %(client)s"
_request_series: dict[tuple[str, str, int], Any] = {}  # labelled histogram children, reused


def _observe(scope: Scope, status: int, elapsed: float) -> None:
    route = scope.get("path_template") or "unmatched"  # the full template, set by the router
    method = str(scope.get("method", ""))
    series = (method, route, status)
    child = _request_series.get(series)
    if child is None:
        child = REQUESTS.labels(method, route, str(status))
        if len(_request_series) < 4096:  # odd methods must not grow it without end
            _request_series[series] = child
    child.observe(elapsed)


def request_observer(app: ASGIApp) -> ASGIApp:
    """ASGI middleware around the whole app (routing included, so a 404 or 405 is seen):
    binds the request id, echoes it as `X-Request-ID`, times the request for the latency
    histogram and writes its access line. The line's path is `scope["path"]`, which never
    holds the query string. The only allocations a request pays with the access line off
    are its id and the response header carrying it."""

    async def observe(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != ScopeType.HTTP:
            if kind != ScopeType.WEBSOCKET:
                await app(scope, receive, send)
                return
            ws_token = bind(scope, request_id_of(scope["headers"]))  # uvicorn's lines too
            try:
                await app(scope, receive, send)
            finally:
                unbind(ws_token)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        token = bind(scope, request_id)
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                header = (REQUEST_ID_HEADER, request_id.encode())
                headers = message.get("headers")
                if isinstance(headers, list):
                    headers.append(header)
                else:
                    message["headers"] = [*(headers or ()), header]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            request_done(scope, status, started, token)

    return observe


def request_done(scope: Scope, status: int, started: float, token: Token[Any]) -> None:
    """The end of an observed request: its latency, its access line, and the request
    unbound. The vote lane (`intake/lane.py`), which answers votes outside this
    middleware, ends its requests here too."""
    elapsed = time.perf_counter() - started
    _observe(scope, status, elapsed)
    if access_log.isEnabledFor(logging.INFO):
        client = scope.get("client")
        access_log.info(_ACCESS_LINE, {
            "method": scope.get("method"), "path": scope["path"], "status": status,
            "duration_ms": round(elapsed * 1000, 3),
            "client": client[0] if client else None,
        })
    unbind(token)


def observe_requests(app: Litestar) -> Litestar:
    """Put `request_observer` around a Litestar app's ASGI handler (outside its router,
    which app-level middleware is not: that never sees a request no route matched)."""
    app.asgi_handler = request_observer(app.asgi_handler)
    return app

