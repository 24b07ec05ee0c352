"""Workers die with their parent: after a kill -9 of `silkvote serve --workers N` no
worker is left serving, orphaned, on the port, and a new `serve` binds the same port
(service/cli/worker.py). The supervisor still replaces a worker that dies on its own
(`test_kill_9_of_a_worker_mid_load_loses_and_doubles_nothing` in test_faults.py).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.cli.worker import death_signal, die_with_parent
from service.core.config import REPO_ROOT
from tests.conftest import TEST_SETTINGS, Stores, start_server, wait_healthy
from tests.harness.server import server_env
from tests.harness.waiting import wait_until
from tests.reliability.rig import is_running, worker_pids

WORKERS_GONE_WITHIN_S = 15.0  # SIGTERM is a graceful shutdown; idle workers take < 1 s


def _report_death_signal(results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    results.put((die_with_parent(), death_signal()))


@pytest.mark.stores_independent
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_death_signal_is_armed_in_a_supervised_worker_not_in_its_parent() -> None:
    """A spawned child (as uvicorn starts its workers) arms SIGTERM; a process nobody
    supervises (`serve --workers 1`, `up`, this test) is left alone, so that it may
    outlive the shell that started it."""
    assert die_with_parent() is False
    assert death_signal() == 0
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    child = spawn.Process(target=_report_death_signal, args=(results,))
    child.start()
    try:
        assert results.get(timeout=60) == (True, signal.SIGTERM)
    finally:
        child.join(timeout=30)


@pytest.mark.slow
def test_kill_9_of_the_parent_takes_its_workers_down_and_frees_the_port(
        stores: Stores, tmp_path: Path) -> None:
    # killed, the server cannot remove its metrics folder: it goes to the test's own
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    server = start_server(stores, tmp_path / "first", workers=2, TMPDIR=str(temporary))
    new: subprocess.Popen[bytes] | None = None
    workers: set[int] = set()
    try:
        workers = wait_until(lambda: worker_pids(server.proc.pid), 30, "two workers",
                             ok=lambda pids: len(pids) == 2)
        killed_at = time.monotonic()
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)

        wait_until(lambda: [pid for pid in workers if is_running(pid)],
                   WORKERS_GONE_WITHIN_S, "the orphaned workers to exit",
                   ok=lambda left: not left, interval_s=0.05)
        print(f"\n  both workers gone {time.monotonic() - killed_at:.2f} s after the kill -9")

        env = server_env(stores, tmp_path / "second", TEST_SETTINGS | {"TMPDIR": str(temporary)})
        (tmp_path / "second").mkdir()
        with (tmp_path / "second" / "server.log").open("wb") as log:
            new = subprocess.Popen(
                [sys.executable, "-m", "service.cli", "serve", "--port", str(server.port),
                 "--workers", "2"], env=env, cwd=REPO_ROOT, stdout=log,
                stderr=subprocess.STDOUT)
        wait_healthy(server.base_url, new)
    finally:
        server.stop()
        for pid in workers:  # if the test failed: never leave them behind
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        if new is not None:
            new.terminate()
            new.wait(timeout=30)


def test_a_stopped_serve_leaves_no_metrics_folder_behind(stores: Stores, tmp_path: Path) -> None:
    """`serve --workers N` makes a folder for the workers' shared metrics files. A server
    restarted each night must not leave one more in the temporary folder each time."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    server = start_server(stores, tmp_path / "server", workers=2, TMPDIR=str(temporary))
    try:
        assert [p.name[:16] for p in temporary.iterdir()] == ["silkvote-metrics"]
    finally:
        server.stop()
    assert server.proc.returncode == 0
    assert list(temporary.iterdir()) == []
