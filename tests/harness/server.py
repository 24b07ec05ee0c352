"""`silkvote serve` as a subprocess on a free port, on the stores of a run.

The server runs as it does in production, through the command line, in a process (and
with `--workers N`, processes) of its own: start-up, migrations, worker fan-out and
shutdown are then part of what is tested and measured, and the test or bench process
never shares an event loop or a GIL with it. Its output goes to a log file beside its
data, so a failure can show the server's side.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from service.core.config import REPO_ROOT
from tests.harness.stores import Stores
from tests.harness.waiting import wait_until

HEALTHY_WITHIN_S = 60.0
STOP_WITHIN_S = 20.0
LOG_TAIL_CHARS = 3000


def free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def server_env(stores: Stores, data_dir: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment, pointed at `stores` and `data_dir`, plus `settings`.

    An inherited PROMETHEUS_MULTIPROC_DIR is dropped: `serve --workers N` makes its own,
    and one shared with an earlier server would add that server's counts to /metrics.
    """
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(DATABASE_URL=stores.database_url, REDIS_URL=stores.redis_url,
               DATA_DIR=str(data_dir))
    env.update(settings)
    return env


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes],
                 timeout_s: float = HEALTHY_WITHIN_S) -> None:
    """Until `/healthz` answers 200; fails at once if the process exits."""

    def status() -> int:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        return httpx.get(f"{base_url}/healthz", timeout=1).status_code

    wait_until(status, timeout_s, f"{base_url}/healthz to answer 200",
               ok=lambda code: code == 200, interval_s=0.2, retry_on=(httpx.HTTPError,))


def contest_body(**overrides: Any) -> dict[str, Any]:
    """The demo final (12 entries, WW voting) as a new contest's definition."""
    import msgspec

    from service.contests.demo import demo_definition

    body: dict[str, Any] = msgspec.to_builtins(demo_definition())
    body.pop("id", None)
    body["name"] = "Test final " + secrets.token_hex(3)
    # Public live standings while voting, which most tests read; the tests of
    # `results_visibility` create their contests with the default (`after_close`).
    body["results_visibility"] = "live"
    body.update(overrides)
    return body


@dataclass
class LiveServer:
    """A `silkvote serve` process on a free port, talking to the stores of the run."""

    base_url: str
    admin_token: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    @property
    def admin(self) -> dict[str, str]:
        """Headers of the producer's requests."""
        return {"Authorization": f"Bearer {self.admin_token}"}

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """One blocking admin request: its JSON (or text) answer; an error status raises."""
        response = httpx.request(method, self.base_url + path, json=body, headers=self.admin,
                                 timeout=timeout)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} "
                               f"{response.content[:300]!r}")
        is_json = "json" in response.headers.get("content-type", "")
        return response.json() if is_json else response.text

    def new_contest(self, **overrides: Any) -> str:
        """A fresh demo contest (12 entries + WW voting), window closed."""
        return str(self.call("POST", "/api/v1/contests", contest_body(**overrides))["id"])

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops it; SIGKILL if it does not exit in time."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve(stores: Stores, data_dir: Path, settings: Mapping[str, str], *,
          workers: int = 1) -> LiveServer:
    """Start `silkvote serve` with `settings` (ADMIN_TOKEN among them) and return it once
    `/healthz` answers; a server that does not get there is stopped, its log tail in the
    error."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    env = server_env(stores, data_dir, settings)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port),
             "--workers", str(workers)],
            env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", env["ADMIN_TOKEN"], proc, log_path, env,
                        workers)
    try:
        wait_healthy(server.base_url, proc)
    except (RuntimeError, AssertionError) as exc:
        server.stop()
        raise RuntimeError(f"{exc}\n{server.log_tail()}") from None
    return server
