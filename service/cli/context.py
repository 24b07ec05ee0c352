"""What every `silkvote` command shares: settings, the stores, and a way to run async work.

Commands that need the stores use DATABASE_URL / REDIS_URL when set, and otherwise the
embedded servers of the data folder (started if needed, reused if `make run` already
runs them).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import asyncpg
from rich.console import Console

from service.core.config import ConfigError, Settings, load_settings
from service.runtime import Runtime, close_runtime, open_runtime
from service.stores.embedded import EmbeddedStores, ensure_stores

console = Console(stderr=True)
T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


@contextmanager
def stores_for(settings: Settings) -> Iterator[Settings]:
    """Yield settings whose URLs point at running stores (embedded ones if unset)."""
    if settings.uses_embedded_postgres or settings.uses_embedded_redis:
        console.print(f"[dim]starting embedded stores in {settings.data_dir}…[/dim]")
    stores: EmbeddedStores = ensure_stores(
        settings.database_url, settings.redis_url, settings.data_dir
    )
    os.environ["DATABASE_URL"] = stores.database_url
    os.environ["REDIS_URL"] = stores.redis_url
    # uvicorn re-raises a SIGTERM after its graceful shutdown; with the default handler
    # that would end the process before the embedded stores below are stopped.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield load_settings()
    finally:
        stores.stop()
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # a requested stop: unwind, so every `finally` runs


def run_db(settings: Settings, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run one coroutine on a fresh connection to the ledger."""

    async def main() -> T:
        from service.stores.postgres import connect

        assert settings.database_url
        conn = await connect(settings.database_url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(main())


def run_with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run one coroutine with the same stores the server uses (components not started)."""

    async def main() -> T:
        rt = await open_runtime(settings)
        try:
            return await work(rt)
        finally:
            await close_runtime(rt)

    return asyncio.run(main())
