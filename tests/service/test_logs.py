"""Logs: every line a served process writes is one record (JSON unless LOG_FORMAT=console),
every request has one access line carrying its request id, records logged inside a
request carry its id and contest, and nothing logged holds a query string."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from service.core.logs import ConsoleFormatter, JsonFormatter
from service.stores.postgres import connect
from tests.conftest import REPO, LiveServer, Stores, start_server
from tests.service.helpers import open_window, voter_headers

LEVELS = {"debug", "info", "warning", "error", "critical"}
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TOKEN = "sekrit-token-in-the-query"  # must never reach a log line
CONSOLE_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) +\S+ ")
DB_TIMEOUT_S = "1"  # a vote behind a locked contest row fails after this: a logged warning


@dataclass
class Served:
    """What one scenario asked a served process, and every line the process wrote."""

    responses: dict[str, httpx.Response]
    lines: list[str]
    contest: str

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    def request_id(self, name: str) -> str:
        return self.responses[name].headers["x-request-id"]

    def access_lines(self, name: str) -> list[dict[str, Any]]:
        rid = self.request_id(name)
        return [r for r in self.records()
                if r["logger"] == "silkvote.access" and r.get("request_id") == rid]


async def exercise(server: LiveServer, stores: Stores, *, warning: bool = True,
                   websocket: bool = True) -> Served:
    """A vote, a 404 of a route and of no route, a 400, a traced request, a forged id,
    a token in a query string, a websocket, and a vote that fails with a logged warning;
    then the server stops, so its log is complete."""
    r: dict[str, httpx.Response] = {}
    cid = server.new_contest()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
        await open_window(api, server, cid)
        voter = await voter_headers(api, server, cid, "+4410", "KZ")
        votes = f"/api/v1/contests/{cid}/votes"
        r["vote"] = await api.post(votes, json={"entry": "UZ", "key": "k1"}, headers=voter)
        r["no contest"] = await api.get("/api/v1/contests/no-such-contest")
        r["no route"] = await api.get("/no/such/page")
        r["bad body"] = await api.post(votes, json={"entry": 5}, headers=voter)
        r["traced"] = await api.get(f"/api/v1/contests/{cid}",
                                    headers={"X-Request-ID": "trace-42.a_B"})
        r["forged"] = await api.get("/healthz", headers={"X-Request-ID": '{"level":"x"} y'})
        r["too long"] = await api.get("/healthz", headers={"X-Request-ID": "a" * 65})
        r["query"] = await api.get(f"/api/v1/contests/{cid}/results",
                                   params={"source": "live", "token": TOKEN})
        if websocket:
            url = server.base_url.replace("http", "ws", 1)
            r["ticket"] = await api.post("/api/v1/ws-tickets", headers=server.admin)
            ticket = r["ticket"].json()["ticket"]
            async with websockets.connect(
                    f"{url}/ws/contests/{cid}/leaderboard?ticket={ticket}") as socket:
                await socket.recv()
        if warning:
            conn = await connect(stores.database_url)
            try:
                async with conn.transaction():  # the vote's write waits for this row lock
                    await conn.execute("SELECT 1 FROM contests WHERE id = $1 FOR UPDATE", cid)
                    r["ledger stuck"] = await api.post(
                        votes, json={"entry": "UZ", "key": "k2"}, headers=voter)
            finally:
                await conn.close()
    server.stop()
    return Served(r, server.log_path.read_text().splitlines(), cid)


@pytest.fixture(scope="module")
async def served(stores: Stores, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[Served]:
    server = start_server(stores, tmp_path_factory.mktemp("logs"), LOG_LEVEL="info",
                          DB_TIMEOUT_S=DB_TIMEOUT_S)
    try:
        yield await exercise(server, stores)
    finally:
        server.stop()


def assert_is_a_record(record: Any) -> None:
    assert isinstance(record, dict)
    stamp = record["time"]
    assert stamp.endswith("Z"), stamp
    assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0)
    assert record["level"] in LEVELS
    assert isinstance(record["logger"], str) and record["logger"]
    assert isinstance(record["message"], str)


async def test_every_line_a_served_process_writes_is_one_json_record(served: Served) -> None:
    assert served.lines
    for line in served.lines:
        assert_is_a_record(json.loads(line))
    loggers = {r["logger"] for r in served.records()}
    assert {"uvicorn.error", "silkvote.app", "silkvote.access", "silkvote.intake"} <= loggers


async def test_each_request_has_one_access_line_with_method_path_status_duration_client(
        served: Served) -> None:
    expected = {
        "vote": ("POST", f"/api/v1/contests/{served.contest}/votes", 201),
        "no contest": ("GET", "/api/v1/contests/no-such-contest", 404),
        "no route": ("GET", "/no/such/page", 404),
        "bad body": ("POST", f"/api/v1/contests/{served.contest}/votes", 400),
        "query": ("GET", f"/api/v1/contests/{served.contest}/results", 200),
    }
    for name, (method, path, status) in expected.items():
        assert served.responses[name].status_code == status, name
        [line] = served.access_lines(name)
        assert line["level"] == "info"
        assert (line["method"], line["path"], line["status"]) == (method, path, status)
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["client"] == "127.0.0.1"


async def test_a_request_inside_a_contest_route_carries_the_contest(served: Served) -> None:
    assert served.access_lines("vote")[0]["contest"] == served.contest
    assert served.access_lines("no contest")[0]["contest"] == "no-such-contest"
    assert "contest" not in served.access_lines("no route")[0]


async def test_a_sane_x_request_id_is_kept_and_echoed_any_other_is_replaced(
        served: Served) -> None:
    assert served.request_id("traced") == "trace-42.a_B"
    assert len(served.access_lines("traced")) == 1
    for name in ("forged", "too long", "vote", "no route"):
        rid = served.request_id(name)
        assert SANE_ID.fullmatch(rid), rid
        assert len(served.access_lines(name)) == 1
    assert served.request_id("forged") != served.request_id("too long")
    assert all("a" * 65 not in line and '{"level":"x"} y' not in line for line in served.lines)


async def test_a_warning_logged_while_serving_a_request_carries_its_id_and_contest(
        served: Served) -> None:
    assert served.responses["ledger stuck"].status_code == 503
    [warning] = [r for r in served.records() if r["level"] == "warning"
                 and r["message"].startswith("ledger write of 1 votes failed")]
    assert warning["logger"] == "silkvote.intake"
    assert warning["request_id"] == served.request_id("ledger stuck")
    assert warning["contest"] == served.contest


async def test_no_line_holds_a_query_string_nor_the_token_sent_in_one(served: Served) -> None:
    assert TOKEN not in "\n".join(served.lines)
    ticket = served.responses["ticket"].json()["ticket"]
    assert ticket not in "\n".join(served.lines)
    assert "ticket=" not in "\n".join(served.lines)
    accesses = [r for r in served.records() if r["logger"] == "silkvote.access"]
    assert accesses and all("?" not in r["path"] and "?" not in r["message"] for r in accesses)
    [socket_line] = [r for r in served.records() if "WebSocket" in r["message"]]
    assert socket_line["contest"] == served.contest and "?" not in socket_line["message"]


@pytest.mark.slow
async def test_each_of_two_worker_processes_logs_json_records(
        stores: Stores, tmp_path: Path) -> None:
    server = start_server(stores, tmp_path, workers=2, LOG_LEVEL="info")
    try:
        served = await exercise(server, stores, warning=False, websocket=False)
    finally:
        server.stop()
    for line in served.lines:
        assert_is_a_record(json.loads(line))
    ready = {r["pid"] for r in served.records() if r["message"] == "service ready"}
    assert len(ready) == 2, "each worker logs as JSON from its start"
    for name in ("vote", "no route", "bad body", "traced"):
        [access] = served.access_lines(name)
        assert access["pid"] in ready
    assert served.request_id("traced") == "trace-42.a_B"


async def test_console_format_is_one_readable_line_per_record_not_json(
        stores: Stores, tmp_path: Path) -> None:
    server = start_server(stores, tmp_path, LOG_LEVEL="info", LOG_FORMAT="console")
    try:
        served = await exercise(server, stores, warning=False, websocket=False)
    finally:
        server.stop()
    assert served.lines
    for line in served.lines:
        assert CONSOLE_LINE.match(line), line  # a record's start: no continuation lines
        with pytest.raises(ValueError):
            json.loads(line)
    [traced] = [line for line in served.lines if "[trace-42.a_B " in line]
    assert f"GET /api/v1/contests/{served.contest} 200 " in traced


def _one_line(formatter: logging.Formatter) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    log = logging.Logger("silkvote.test")
    log.addHandler(handler)
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("sum failed\non two lines", extra={"attempt": 3})
    return out.getvalue()


@pytest.mark.stores_independent
def test_a_record_with_an_exception_keeps_its_traceback_in_one_line() -> None:
    line = _one_line(JsonFormatter())
    assert line.count("\n") == 1
    record = json.loads(line)
    assert_is_a_record(record)
    assert record["message"] == "sum failed\non two lines" and record["attempt"] == 3
    assert "Traceback" in record["exception"] and "ZeroDivisionError" in record["exception"]
    console = _one_line(ConsoleFormatter())
    assert console.count("\n") == 1
    assert "attempt=3" in console and "ZeroDivisionError: division by zero" in console


@pytest.mark.stores_independent
def test_a_bad_log_format_stops_the_service_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "LOG_FORMAT": "xml"}
    done = subprocess.run([sys.executable, "-m", "service.cli", "serve"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "LOG_FORMAT" in done.stdout + done.stderr
