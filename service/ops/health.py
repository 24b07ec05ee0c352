"""What the probes report: alive (`/livez`), healthy (`/healthz`), ready (`/readyz`).

Liveness asks nothing of the stores: a process whose database is down is not helped
by a restart. Health is whether both stores answer. Readiness is whether the process
can take votes: the ledger answers and carries every migration in the migrations
folder, so a pod whose code expects a newer schema takes no traffic. Redis is not part
of that: a vote is acknowledged once PostgreSQL has it, and a lost Redis costs the live
board (repaired from the ledger), not intake, so taking every pod out of rotation for
it would turn a stale leaderboard into an outage. Readiness still reports Redis, and
says `degraded` while it is down. Both are checked once for any number of concurrent probes,
and the migrations result is kept for `MIGRATIONS_TTL_S`: without sharing, a burst of
probes (several load balancers, a monitoring storm) would take every pooled connection
away from the votes and then report 503 for waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import msgspec

from service.stores import postgres
from service.stores.migrations import MigrationStatus, status

CHECK_TIMEOUT_S = 2.0
MIGRATIONS_TTL_S = 2.0  # the schema changes only when a migration runs: seconds are fresh
T = TypeVar("T")


class Health(msgspec.Struct):
    status: str
    postgres: str
    redis: str


class Liveness(msgspec.Struct):
    status: str = "ok"


class Readiness(msgspec.Struct):
    """`status` is `ready`, `degraded` (ready, but Redis failed: votes are taken, the live
    board is stale) or `not_ready` (PostgreSQL or the migrations failed). `failed` names
    every check that failed (postgres, redis, migrations); `pending` the migration files
    the database has not applied."""

    status: str
    failed: list[str]
    postgres: str
    redis: str
    migrations: str
    pending: list[str]


class MigrationState(msgspec.Struct, frozen=True):
    outcome: str  # "ok", "pending" or "error: <exception>"
    pending: tuple[str, ...] = ()


async def _within(call: Awaitable[T], timeout_s: float) -> T:
    """`call`'s result, or TimeoutError after `timeout_s` without waiting for the call to
    wind down: asyncpg cancels a query with a round trip to the very server that hangs,
    and a probe must answer within its own timeout to say which check failed."""
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        task.add_done_callback(_forget)
        raise TimeoutError
    return task.result()


def _forget(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a failure after the timeout is not news


async def _check(call: Awaitable[Any]) -> str:
    try:
        await _within(call, CHECK_TIMEOUT_S)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


class HealthCheck:
    def __init__(self, pool: asyncpg.Pool, redis: Any) -> None:
        self._pool = pool
        self._redis = redis
        self._in_flight: asyncio.Future[Health] | None = None
        self._migrations: asyncio.Future[MigrationState] | None = None
        self._migrations_folder: Path | None = None
        self._migrations_done_at = 0.0

    async def _run(self) -> Health:
        pg, redis = await asyncio.gather(_check(postgres.ping(self._pool)),
                                         _check(self._redis.ping()))
        return Health("ok" if pg == redis == "ok" else "degraded", pg, redis)

    def shared(self) -> asyncio.Future[Health]:
        """The check in flight, or a new one: concurrent probes share one check."""
        if self._in_flight is None:
            self._in_flight = asyncio.ensure_future(self._run())
            self._in_flight.add_done_callback(self._done)
        return self._in_flight

    def _done(self, _: asyncio.Future[Health]) -> None:
        self._in_flight = None

    def migrations(self, folder: Path) -> asyncio.Future[MigrationState]:
        """The last migrations check while younger than `MIGRATIONS_TTL_S`, else the one
        in flight, else a new one."""
        if (self._migrations is None or folder != self._migrations_folder
                or (self._migrations.done()
                    and time.monotonic() - self._migrations_done_at > MIGRATIONS_TTL_S)):
            self._migrations = asyncio.ensure_future(self._check_migrations(folder))
            self._migrations_folder = folder
            self._migrations.add_done_callback(self._migrations_checked)
        return self._migrations

    def _migrations_checked(self, _: asyncio.Future[MigrationState]) -> None:
        self._migrations_done_at = time.monotonic()

    async def _check_migrations(self, folder: Path) -> MigrationState:
        """Compare `schema_migrations` with the files (`stores.migrations.status`)."""
        try:
            rows = await _within(self._status(folder), CHECK_TIMEOUT_S)
        except Exception as exc:
            return MigrationState(f"error: {type(exc).__name__}")
        pending = tuple(row.migration.name for row in rows if row.applied_at is None)
        return MigrationState("pending" if pending else "ok", pending)

    async def _status(self, folder: Path) -> list[MigrationStatus]:
        async with self._pool.acquire() as conn:
            return await status(conn, folder)

    async def readiness(self, folder: Path) -> Readiness:
        """The ledger answers and the schema is complete; Redis is reported, not
        required. Shielded: a probe that gives up must not cancel the check the other
        probes share."""
        stores, schema = await asyncio.gather(asyncio.shield(self.shared()),
                                              asyncio.shield(self.migrations(folder)))
        checks = {"postgres": stores.postgres, "redis": stores.redis,
                  "migrations": schema.outcome}
        failed = [name for name, outcome in checks.items() if outcome != "ok"]
        status = ("ready" if not failed else "degraded" if failed == ["redis"]
                  else "not_ready")
        return Readiness(status, failed, stores.postgres, stores.redis, schema.outcome,
                         list(schema.pending))
