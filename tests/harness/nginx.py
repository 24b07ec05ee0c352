"""nginx with deploy/nginx-cache.conf in front of a served SilkVote, on loopback.

The test of the cache and the results-cache bench run the shipped file itself: only its
addresses and its cache folder are replaced, so what they measure is what an operator
deploys. nginx comes from Debian (`make nginx`); `nginx_binary()` is None without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.harness.server import free_port
from tests.harness.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_CONF = REPO_ROOT / "deploy" / "nginx-cache.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)


def render(upstream_port: int, listen_port: int, folder: Path, workers: int) -> str:
    text = CACHE_CONF.read_text(encoding="utf-8")
    for old, new in (("server silkvote:8000", f"server 127.0.0.1:{upstream_port}"),
                     ("listen 8080;", f"listen 127.0.0.1:{listen_port};"),
                     ("/var/cache/nginx/silkvote", str(folder / "cache")),
                     ("worker_processes auto;", f"worker_processes {workers};")):
        assert old in text, f"deploy/nginx-cache.conf no longer says {old!r}"
        text = text.replace(old, new)
    return text


@dataclass
class Nginx:
    base_url: str
    proc: subprocess.Popen[bytes]
    folder: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def start_nginx(binary: str, upstream_port: int, folder: Path, workers: int = 1) -> Nginx:
    """nginx in the foreground (its own process group child), answering once it serves."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cache").mkdir(exist_ok=True)
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / temp).mkdir(exist_ok=True)
    port = free_port()
    conf = folder / "nginx.conf"
    text = render(upstream_port, port, folder, workers)
    temps = "".join(f"    {name}_temp_path {folder / name};\n"
                    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf.write_text(text.replace("http {\n", "http {\n" + temps, 1), encoding="utf-8")
    globals_ = f"daemon off; pid {folder / 'nginx.pid'}; error_log {folder / 'error.log'} warn;"
    if os.geteuid() == 0:  # workers would run as nobody and not reach a private temp folder
        globals_ += " user root;"
    proc = subprocess.Popen([binary, "-p", str(folder), "-c", str(conf), "-g", globals_],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = Nginx(f"http://127.0.0.1:{port}", proc, folder)

    def answers() -> int:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}: {server.error_log()}")
        return httpx.get(f"{server.base_url}/healthz", timeout=1).status_code

    try:
        wait_until(answers, 10, "nginx to answer /healthz through to SilkVote",
                   ok=lambda code: code == 200, interval_s=0.05, retry_on=(httpx.HTTPError,))
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def nginx_or_skip(upstream_port: int, folder: Path) -> Iterator[Nginx]:
    """nginx in front of `upstream_port` for a test, stopped after it; the test is
    skipped, saying how to install nginx, where there is none."""
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed and could not be: `make nginx` installs Debian's "
                    "nginx package (needs root and apt)")
    server = start_nginx(binary, upstream_port, folder)
    try:
        yield server
    finally:
        server.stop()
