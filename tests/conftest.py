"""Shared test fixtures: real PostgreSQL and Redis, and a real SilkVote server.

With DATABASE_URL and REDIS_URL set, the suite runs against those servers (a fresh
database is created per run, so the server's own data is never touched); otherwise it
starts embedded PostgreSQL and Valkey in a temporary folder. Nothing is mocked. The
stores and the server come from `tests/harness`, which the bench uses too; this file
adds the test servers' settings and the fixtures.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.stores.postgres import connect
from tests.apidocs.error_coverage import report, undocumented_errors_of
from tests.harness.server import LiveServer, contest_body, free_port, serve, wait_healthy
from tests.harness.stores import Stores, open_stores

__all__ = ["ADMIN_TOKEN", "REPO", "LiveServer", "Stores", "contest_body", "free_port",
           "start_server", "wait_healthy"]

REPO = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-" + secrets.token_hex(16)  # 32+ characters, as serve requires
SERVER_LOG_TAIL_LINES = 60


# The external pass checks the store contract: that every rule holds on the machine's
# PostgreSQL and Redis as it does on the embedded ones. What these folders check depends
# on something else, so they run once, in the embedded pass: the pages in a real
# browser, Kannel, nginx and the packaging (deploy/), the process under faults, slow
# clients and hostile input (reliability/: its drills need stores they can stop), and
# the bench's machinery (loadtests/). The rules behind each have store-level tests of
# their own in the other folders.
ONCE_PER_RUN = ("tests/browser/", "tests/sms/", "tests/deploy/", "tests/reliability/",
                "tests/loadtests/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `stores_independent` never reach PostgreSQL or Redis through the
    stores under test, and those under `ONCE_PER_RUN` check what does not depend on
    them, so `make test` runs both once, in its embedded pass, and not again against the
    machine's servers (DATABASE_URL set)."""
    if not os.environ.get("DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="does not depend on the stores; runs in the embedded "
                                   "pass of `make test`")
    for item in items:
        where = Path(str(item.fspath)).resolve().relative_to(REPO).as_posix()
        if item.get_closest_marker("stores_independent") or where.startswith(ONCE_PER_RUN):
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


TEST_SETTINGS = {
    "ADMIN_TOKEN": ADMIN_TOKEN, "SIGNING_SECRET": "test-signing-secret",
    "VOTER_HASH_KEY": "test-voter-key", "SELF_SERVICE_TOKENS": "true", "LEADERBOARD_HZ": "4",
    "RECONCILE_INTERVAL_S": "1", "LOG_LEVEL": "warning", "RATE_LIMIT_VOTER_PER_S": "0",
    "RATE_LIMIT_JURY_LOGIN_PER_MIN": "0",
    # every client of the suite is 127.0.0.1, and some open 1,000 sockets; the limit
    # itself is tested on a server of its own (tests/service/test_ws_limits.py)
    "WS_CONNECTIONS_PER_CLIENT": "0",
}


@pytest.fixture(scope="session")
async def stores(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stores]:
    """Running stores with the schema applied, for the whole session."""
    result = await open_stores(tmp_path_factory.mktemp("stores"))
    yield result
    await result.close()


def start_server(stores: Stores, data_dir: Path, workers: int = 1, **env: str) -> LiveServer:
    """A test server (the settings above, overridden by `env`) on `stores`."""
    return serve(stores, data_dir, TEST_SETTINGS | env, workers=workers)


@pytest.fixture(scope="session")
def live_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The session's server. Its teardown fails the run if the server answered an error
    that the route's OpenAPI operation does not list (tests/apidocs/error_coverage.py)."""
    server = start_server(stores, tmp_path_factory.mktemp("server"))
    yield server
    try:
        missing = undocumented_errors_of(server.base_url) if server.proc.poll() is None else []
    finally:
        server.stop()
    if missing:
        pytest.fail(report(missing), pytrace=False)


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
