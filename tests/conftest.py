"""Shared test harness: real PostgreSQL and Redis, and a real SilkVote server.

With DATABASE_URL and REDIS_URL set, the suite runs against those servers (a fresh
database is created per run, so the server's own data is never touched); otherwise it
starts embedded PostgreSQL and Valkey in a temporary folder. Nothing is mocked.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
import pytest

from service.contests.demo import demo_definition
from service.stores.embedded import start_postgres, start_valkey
from service.stores.migrations import apply_url
from service.stores.postgres import connect

REPO = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-" + secrets.token_hex(8)
SERVER_LOG_TAIL_LINES = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `stores_independent` never reach PostgreSQL or Redis through the
    stores under test, so `make test` runs them once, in its embedded pass, and not
    again against the machine's servers (DATABASE_URL set)."""
    if not os.environ.get("DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="does not depend on the stores; runs in the embedded "
                                   "pass of `make test`")
    for item in items:
        if item.get_closest_marker("stores_independent"):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failing test that used a live server shows the end of that server's log, so a
    failure seen only on CI (a dropped connection, a 500) carries the server's side."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("live_server")
    if report.failed and isinstance(server, LiveServer) and server.log_path.exists():
        tail = server.log_path.read_text(errors="replace").splitlines()[-SERVER_LOG_TAIL_LINES:]
        report.sections.append((f"server log ({server.log_path.name}, last lines)",
                                "\n".join(tail)))


@dataclass
class Stores:
    database_url: str
    redis_url: str
    embedded: bool
    _handles: list[Any] = field(default_factory=list)


def _with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/" + name))


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def stores(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stores]:
    """Running stores with the schema applied, for the whole session."""
    external_db, external_redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if external_db and external_redis:
        name = f"silkvote_test_{secrets.token_hex(4)}"
        await _create_database(external_db, name)
        result = Stores(_with_database(external_db, name), external_redis, embedded=False)
        await apply_url(result.database_url, REPO / "migrations")
        yield result
        await _drop_database(external_db, name)
        return
    folder = tmp_path_factory.mktemp("stores")
    pg_url, pg = start_postgres(folder / "postgres")
    redis_url, valkey = start_valkey(folder / "valkey")
    await apply_url(pg_url, REPO / "migrations")
    yield Stores(pg_url, redis_url, embedded=True, _handles=[pg, valkey])
    valkey.stop()
    pg.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(stores: Stores, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DATABASE_URL=stores.database_url, REDIS_URL=stores.redis_url, ADMIN_TOKEN=ADMIN_TOKEN,
        SIGNING_SECRET="test-signing-secret", VOTER_HASH_KEY="test-voter-key",
        DATA_DIR=str(data_dir), SELF_SERVICE_TOKENS="true", LEADERBOARD_HZ="4",
        RECONCILE_INTERVAL_S="1", LOG_LEVEL="warning", RATE_LIMIT_VOTER_PER_S="0",
        RATE_LIMIT_JURY_LOGIN_PER_MIN="0",
    )
    env.update(extra)
    return env


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {base_url} did not become healthy")


@dataclass
class LiveServer:
    """A `silkvote serve` process on a free port, talking to the test stores."""

    base_url: str
    admin_token: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def new_contest(self, **overrides: Any) -> str:
        """A fresh Silk Way Star contest (12 entries + WW voting), window closed."""
        definition = contest_body(**overrides)
        response = httpx.post(f"{self.base_url}/api/v1/contests", json=definition,
                              headers=self.admin, timeout=10)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def contest_body(**overrides: Any) -> dict[str, Any]:
    import msgspec

    body: dict[str, Any] = msgspec.to_builtins(demo_definition())
    body.pop("id", None)
    body["name"] = "Test final " + secrets.token_hex(3)
    body.update(overrides)
    return body


def start_server(stores: Stores, data_dir: Path, workers: int = 1, **env: str) -> LiveServer:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    full_env = server_env(stores, data_dir, **env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=full_env, cwd=REPO, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", ADMIN_TOKEN, proc, log_path, full_env)
    try:
        wait_healthy(server.base_url, proc)
    except RuntimeError:
        server.stop()
        raise RuntimeError(log_path.read_text()[-3000:]) from None
    return server


@pytest.fixture(scope="session")
def live_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(stores, tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the live server (real sockets, no test transport)."""
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30,
                                 limits=limits) as client:
        yield client


@pytest.fixture
async def ledger(stores: Stores) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the ledger, to check what was really stored."""
    conn = await connect(stores.database_url)
    yield conn
    await conn.close()
