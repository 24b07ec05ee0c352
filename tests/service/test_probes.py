"""The probes say what they mean: `/livez` is the process, `/readyz` is the ledger and the
schema (Redis reported, not required), `/healthz` is unchanged (both stores answer).

An orchestrator restarts a pod whose liveness fails and takes traffic away from one
whose readiness fails; mixing the two restarts every pod during a database outage, or
sends votes to a pod whose code expects a migration the database does not have. Votes
need only the ledger, so a Redis outage must not take every pod out of rotation.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.core.config import REPO_ROOT
from service.ops.health import MIGRATIONS_TTL_S
from tests.conftest import LiveServer, Stores, start_server
from tests.harness.waiting import eventually, wait_until
from tests.reliability.rig import Rig, make_voters, open_contest

PENDING = "9999_added_after_the_database_was_migrated.sql"
CHECK_TIMEOUT_S = 2.0  # service/ops/health.py's budget for one store check…
PROBE_WITHIN_S = 1.0  # …and what a liveness probe may take at most, stores or not


def test_livez_answers_200_from_the_event_loop(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.base_url}/livez")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_is_200_when_both_stores_answer_and_every_migration_is_applied(
        live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.base_url}/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "failed": [], "postgres": "ok", "redis": "ok",
                        "migrations": "ok", "pending": []}


def test_healthz_keeps_its_body(live_server: LiveServer) -> None:
    r = httpx.get(f"{live_server.base_url}/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


async def test_a_storm_of_readiness_probes_is_answered_and_stays_ready(
        live_server: LiveServer) -> None:
    """The store check and the migrations check are shared, so 300 concurrent probes
    need no more than a few pooled connections and none waits for one."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        answers = await asyncio.gather(*(api.get("/readyz") for _ in range(300)))
    assert {r.status_code for r in answers} == {200}


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", folder)
    return folder


@pytest.fixture
def server_on_copy(stores: Stores, migrations_copy: Path, tmp_path: Path
                   ) -> Iterator[LiveServer]:
    server = start_server(stores, tmp_path / "server", MIGRATIONS_DIR=str(migrations_copy))
    yield server
    server.stop()


def test_readyz_is_503_naming_a_migration_file_the_database_has_not_applied(
        server_on_copy: LiveServer, migrations_copy: Path) -> None:
    """`serve` applies pending migrations at start, so the file is added once the server
    runs (as when the database is restored from a backup older than the newest
    migration); it is never applied to the shared test database."""
    url = f"{server_on_copy.base_url}/readyz"
    assert httpx.get(url).status_code == 200
    (migrations_copy / PENDING).write_text("SELECT 1;\n", encoding="utf-8")

    r = wait_until(lambda: httpx.get(url, timeout=5), MIGRATIONS_TTL_S + 10,
                   "/readyz to see the new migration file", ok=lambda r: r.status_code == 503)
    assert r.json() == {"status": "not_ready", "failed": ["migrations"], "postgres": "ok",
                        "redis": "ok", "migrations": "pending", "pending": [PENDING]}
    assert httpx.get(f"{server_on_copy.base_url}/livez").status_code == 200
    assert httpx.get(f"{server_on_copy.base_url}/healthz").status_code == 200

    (migrations_copy / PENDING).unlink()
    wait_until(lambda: httpx.get(url, timeout=5).status_code, MIGRATIONS_TTL_S + 10,
               "/readyz to be ready again once the file is gone", ok=lambda code: code == 200)


@pytest.mark.slow
@pytest.mark.stores_independent  # its own embedded stores, which it pauses
async def test_while_postgres_hangs_readyz_is_503_naming_it_and_livez_stays_200(
        tmp_path: Path) -> None:
    rig = await Rig.start(tmp_path)
    try:
        server = rig.serve()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
            assert (await api.get("/readyz")).status_code == 200
            rig.pause_postgres(True)
            try:
                ready = await api.get("/readyz")
                live = await api.get("/livez", timeout=PROBE_WITHIN_S)
            finally:
                rig.pause_postgres(False)
            assert ready.status_code == 503
            body = ready.json()
            assert body["status"] == "not_ready"
            assert "postgres" in body["failed"] and "redis" not in body["failed"]
            assert body["postgres"] == "error: TimeoutError"
            assert live.status_code == 200 and live.json() == {"status": "ok"}
            assert ready.elapsed.total_seconds() < CHECK_TIMEOUT_S + 2
    finally:
        rig.stop()


@pytest.mark.slow
@pytest.mark.stores_independent  # its own embedded stores, whose Redis it stops
async def test_without_redis_readyz_stays_200_degraded_and_votes_are_still_taken(
        tmp_path: Path) -> None:
    """Losing Redis costs the live board, not intake: readiness says `degraded` with a
    200, so no pod leaves rotation; /healthz (both stores) says 503 as it always did."""
    rig = await Rig.start(tmp_path)
    try:
        server = rig.serve()
        cid = await open_contest(server, cap=5)
        voter = (await make_voters(server, cid, 1))[0]
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as api:
            assert (await api.get("/readyz")).json()["status"] == "ready"
            rig.stop_valkey()

            ready = await eventually(lambda: api.get("/readyz"), 20,
                                     "/readyz to notice that Redis is gone",
                                     ok=lambda r: r.json()["redis"] != "ok")
            assert ready.status_code == 200, ready.text
            body = ready.json()
            assert body["status"] == "degraded" and body["failed"] == ["redis"]
            assert body["postgres"] == "ok" and body["migrations"] == "ok"
            assert body["redis"].startswith("error: ")
            assert (await api.get("/healthz")).status_code == 503
            assert (await api.get("/livez")).status_code == 200
            vote = await api.post(f"/api/v1/contests/{cid}/votes",
                                  json={"entry": "AZ", "key": "k-without-redis"},
                                  headers={"Authorization": f"Bearer {voter.token}"})
            assert vote.status_code == 201, vote.text
    finally:
        rig.stop()
