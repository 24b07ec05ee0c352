"""PostgreSQL and Redis for one run of the tests or the bench, with the schema applied.

With DATABASE_URL and REDIS_URL both set, the run uses those servers (CI has them, and a
bench on them measures the stores a deployment would use) in a database created for
the run and dropped after it, so the server's own data is never touched. Otherwise it
starts embedded PostgreSQL and Valkey in a folder of its own: a fresh machine needs
nothing but Python, and a fault test may stop, pause or flush them without disturbing
anything else. Either way the schema comes from the migrations the service applies at
start-up, so what is tested is what is deployed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg

from service.core.config import REPO_ROOT
from service.stores.embedded import start_postgres, start_valkey
from service.stores.migrations import apply_url

MIGRATIONS = REPO_ROOT / "migrations"


@dataclass
class Stores:
    """Where the stores of a run are; for embedded ones, the handles that stop them.

    `postgres` and `valkey` may be replaced by whoever restarts a server (the fault
    rig does), so `close` stops the one that runs now.
    """

    database_url: str
    redis_url: str
    embedded: bool
    folder: Path | None = None  # of the embedded servers: postgres/ and valkey/
    postgres: Any = None
    valkey: Any = None  # None also when another process already served the folder
    created_database: tuple[str, str] | None = None  # (admin URL, name) to drop at close

    @property
    def postgres_pid(self) -> int | None:
        """The embedded postmaster, whose process tree holds every backend."""
        return _pid_file(self.folder / "postgres", "postmaster.pid") if self.folder else None

    @property
    def redis_pid(self) -> int | None:
        return _pid_file(self.folder / "valkey", "valkey.pid") if self.folder else None

    def stop_servers(self) -> None:
        """Stop the embedded servers (nothing for external ones)."""
        if self.valkey is not None:
            self.valkey.stop()
        if self.postgres is not None:
            self.postgres.cleanup()

    async def close(self) -> None:
        """Drop the run's database, or stop the embedded servers."""
        if self.created_database is not None:
            admin_url, name = self.created_database
            await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.stop_servers()


def external_urls() -> tuple[str, str] | None:
    """DATABASE_URL and REDIS_URL, when both are set; the Redis URL made the pytest
    worker's own (`worker_redis_url`)."""
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not (database_url and redis_url):
        return None
    return database_url, worker_redis_url(redis_url, os.environ.get("PYTEST_XDIST_WORKER"))


def worker_redis_url(redis_url: str, worker: str | None) -> str:
    """The machine's one Redis shared by parallel pytest workers: worker `gwN` takes
    database number base + N, so no worker reads another's tallies, rate-limit
    counters or leases (each run already has a PostgreSQL database of its own).
    Pub/sub channels span databases, so a process may hear another worker's contest
    ids; the service ignores contests it does not hold, as it must in production."""
    if not worker or not worker.startswith("gw") or not worker[2:].isdigit():
        return redis_url
    parts = urlparse(redis_url)
    base = int(parts.path.strip("/") or 0)
    return urlunparse(parts._replace(path=f"/{base + int(worker[2:])}"))


async def open_stores(folder: Path, *, migrations: Path = MIGRATIONS,
                      prefix: str = "silkvote_test", external: bool | None = None) -> Stores:
    """Running stores with `migrations` applied: the machine's servers when `external`
    (by default: when both URLs are set), in a new database named `prefix_<random>`,
    else embedded ones in `folder`."""
    urls = external_urls() if external is not False else None
    if external and urls is None:
        raise RuntimeError("external stores need DATABASE_URL and REDIS_URL")
    if urls is not None:
        admin_url, redis_url = urls
        name = f"{prefix}_{secrets.token_hex(4)}"
        await _admin(admin_url, f'CREATE DATABASE "{name}"')
        database_url = urlunparse(urlparse(admin_url)._replace(path="/" + name))
        stores = Stores(database_url, redis_url, False, created_database=(admin_url, name))
    else:
        database_url, postgres = start_postgres(folder / "postgres")
        stores = Stores(database_url, "", True, folder, postgres)
        stores.redis_url, stores.valkey = start_valkey(folder / "valkey")
    try:
        await apply_url(stores.database_url, migrations)
    except BaseException:
        await stores.close()
        raise
    return stores


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pid_file(folder: Path, name: str) -> int | None:
    for path in folder.rglob(name):
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(path.read_text().split()[0])
    return None
