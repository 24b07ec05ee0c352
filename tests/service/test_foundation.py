"""Service foundation: two-command start, configuration, errors, operations endpoints."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import REPO, LiveServer, free_port, wait_healthy

UVICORN_DEFAULT_KEEPALIVE_S = 5

DEMO = "silk-way-star"


def _up(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(data_dir), PORT=str(port), ADMIN_TOKEN="up-admin")
    return subprocess.Popen([sys.executable, "-m", "service.cli", "up"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes], how: signal.Signals = signal.SIGINT) -> str:
    proc.send_signal(how)
    out, _ = proc.communicate(timeout=30)
    return out.decode(errors="replace")


def _processes_under(folder: Path) -> list[str]:
    """Running processes that name `folder` or work in it (the embedded stores do)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            text = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = str((proc / "cwd").readlink())
        except OSError:
            continue
        if str(folder) in text or cwd.startswith(str(folder)):
            found.append(text)
    return found


@pytest.mark.slow
def test_silkvote_up_serves_the_demo_on_embedded_stores_keeps_data_and_stops_them_on_sigterm(
        tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": "Bearer up-admin"}
    proc = _up(tmp_path, port)
    try:
        wait_healthy(base, proc, timeout_s=90)
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
        demo = httpx.get(f"{base}/api/v1/contests/{DEMO}").json()
        assert [e["country"] for e in demo["entries"]] == [
            "AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]
        assert demo["voting_countries"][-1] == "WW"
        assert httpx.post(f"{base}/api/v1/contests/{DEMO}/window", json={"state": "open"},
                          headers=admin).status_code == 200
    finally:
        first_output = _stop(proc)
    assert f"{base}/vote/{DEMO}" in first_output
    # the operator set ADMIN_TOKEN: it is theirs to know, and never printed
    assert "up-admin" not in first_output and "not shown" in first_output
    proc = _up(tmp_path, port)
    try:
        wait_healthy(base, proc, timeout_s=90)
        assert httpx.get(f"{base}/api/v1/contests/{DEMO}").json()["window"] == "open"
    finally:
        _stop(proc, signal.SIGTERM)  # what Docker, systemd and Kubernetes send
    assert proc.returncode == 0
    assert not _processes_under(tmp_path), "the embedded stores outlived `silkvote up`"


def test_unknown_contest_is_404_with_the_error_body(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.base_url}/api/v1/contests/no-such-contest")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "no-such-contest" in r.json()["error"]["message"]


def test_malformed_json_is_400_invalid_body(live_server: LiveServer) -> None:
    r = httpx.post(f"{live_server.base_url}/api/v1/contests", content=b"{not json",
                   headers={**live_server.admin, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_body"


def test_unknown_fields_are_refused_not_ignored(live_server: LiveServer) -> None:
    r = httpx.post(f"{live_server.base_url}/api/v1/contests", json={"name": "x", "bogus": 1},
                   headers=live_server.admin)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_body"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_admin_endpoints_refuse_a_missing_or_wrong_token_with_401(
        live_server: LiveServer, headers: dict[str, str]) -> None:
    cid = live_server.new_contest()
    r = httpx.post(f"{live_server.base_url}/api/v1/contests/{cid}/window",
                   json={"state": "open"}, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


def test_contest_rules_are_validated_by_the_scoring_library(live_server: LiveServer) -> None:
    from tests.conftest import contest_body

    def create(rules: dict[str, object]) -> httpx.Response:
        return httpx.post(f"{live_server.base_url}/api/v1/contests",
                          json=contest_body(rules=rules), headers=live_server.admin)

    # The body is decoded into the library's own Rules model: a method it does not know
    # is refused with the body, like any value outside its type (400 invalid_body).
    r = create({"points": [12, 10], "jury_method": "coin_toss"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_body"
    assert "jury_method" in r.json()["error"]["message"]
    # Well-typed rules that the library's validate_rules refuses are 422 invalid_rules,
    # naming the field (service/contests: check_definition).
    r = create({"points": [10, 12]})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_rules"
    assert "rules.points[1]" in r.json()["error"]["message"]


def test_an_oversized_body_is_400_body_too_large(live_server: LiveServer) -> None:
    r = httpx.post(f"{live_server.base_url}/api/v1/contests", content=b"x" * (5 * 1024 * 1024),
                   headers={**live_server.admin, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "body_too_large"


def test_operations_endpoints_answer(live_server: LiveServer) -> None:
    base = live_server.base_url
    assert httpx.get(f"{base}/healthz").json() == {
        "status": "ok", "postgres": "ok", "redis": "ok"}
    assert "silkvote_http_request_seconds" in httpx.get(f"{base}/metrics").text
    schema = httpx.get(f"{base}/schema/openapi.json").json()
    assert "/api/v1/contests/{cid}/votes" in schema["paths"]
    assert httpx.get(f"{base}/schema/swagger").status_code == 200


@pytest.mark.stores_independent
def test_an_idle_keep_alive_connection_outlives_uvicorns_5_s_default(
        live_server: LiveServer) -> None:
    """Aggregators and load balancers reuse idle connections for up to 60 s; a server
    that drops them sooner loses the request sent as it closes to a reset."""
    address = urlparse(live_server.base_url)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    try:
        assert _get_status(conn, "/healthz") == 200
        first_socket = conn.sock
        # idle past uvicorn's default on purpose: the idle time is what the test is about
        time.sleep(UVICORN_DEFAULT_KEEPALIVE_S + 1)
        assert _get_status(conn, "/healthz") == 200  # closed: RemoteDisconnected
        assert conn.sock is first_socket  # one connection served both requests
    finally:
        conn.close()


def _get_status(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


async def test_a_storm_of_health_probes_shares_store_checks_and_stays_healthy(
        api: httpx.AsyncClient) -> None:
    """300 probes at once against a pool of 10 connections: none waits into a 503."""
    answers = await asyncio.gather(*(api.get("/healthz") for _ in range(300)))
    assert {r.status_code for r in answers} == {200}
    assert all(r.json()["postgres"] == "ok" for r in answers)


def test_migrate_status_lists_every_migration_as_applied(live_server: LiveServer) -> None:
    env = {**os.environ, "DATABASE_URL": _db_url(live_server), "REDIS_URL": _redis_url(live_server)}
    out = subprocess.run([sys.executable, "-m", "service.cli", "migrate", "--status"], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "0001_foundation" in out.stdout and "pending" not in out.stdout


def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "PORT": "eighty", "DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "service.cli", "migrate"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "PORT" in out.stdout + out.stderr


def _db_url(server: LiveServer) -> str:
    return _server_env(server, "DATABASE_URL")


def _redis_url(server: LiveServer) -> str:
    return _server_env(server, "REDIS_URL")


def _server_env(server: LiveServer, name: str) -> str:
    value = server.env.get(name)
    assert value
    return value
