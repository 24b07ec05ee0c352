"""Commands that start things: `up` (the demo), `serve`, `migrate`, `seed-demo`."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from service.cli.context import (
    console,
    embedded_option,
    fail,
    run_db,
    settings_or_exit,
    stores_for,
)
from service.core.config import UP_MODE, Settings

if TYPE_CHECKING:
    from service.stores.replicated import ReplicatedPostgres


def _migrations_folder(settings: Settings) -> Path:
    """The folder `migrate` reads; exit 2 if it holds no migration (never "up to date")."""
    from service.stores.migrations import MigrationsNotFound, discover

    folder = settings.migrations_dir
    try:
        discover(folder)
    except (MigrationsNotFound, ValueError) as exc:
        fail(click.get_current_context().info_name or "migrate", str(exc))
    return folder


def _migrate(settings: Settings, quiet: bool = False) -> Settings:
    """Apply migrations (MIGRATION_DATABASE_URL, else DATABASE_URL) and return settings
    whose DATABASE_URL is the service's own login, never a superuser
    (stores/database_roles.py); workers started later read it from the environment."""
    import asyncio

    from service.stores.database_roles import ServiceLoginError
    from service.stores.provision import migrate_and_provision

    _migrations_folder(settings)
    try:
        applied, url = asyncio.run(migrate_and_provision(settings))
    except ServiceLoginError as exc:
        fail(click.get_current_context().info_name or "migrate", str(exc))
    if settings.migration_database_url is None and url != settings.database_url:
        assert settings.database_url
        os.environ["MIGRATION_DATABASE_URL"] = settings.database_url
    os.environ["DATABASE_URL"] = url
    if not quiet:  # `serve`: apply() logs each migration it applies, as a log record
        for migration in applied:
            console.print(f"applied [bold]{migration.name}[/bold]")
        if not applied:
            console.print("[dim]schema is up to date[/dim]")
    return settings_or_exit()


def _seed_demo(settings: Settings) -> str:
    from service.contests.demo import seed_demo

    contest_id, created = run_db(settings, seed_demo)
    console.print(f"demo contest [bold]{contest_id}[/bold] {'created' if created else 'present'}")
    return contest_id


@contextmanager
def _replicated_ledger(settings: Settings) -> Iterator[Settings]:
    """Settings whose DATABASE_URL is a primary and its synchronous standby, started in
    DATA_DIR/replicated and stopped on the way out."""
    from service.stores.embedded import EmbeddedUnavailable
    from service.stores.replicated import ReplicatedPostgres, ReplicationError

    if not settings.uses_embedded_postgres:
        fail("up", "--replicated starts its own PostgreSQL pair: unset DATABASE_URL")
    pair = ReplicatedPostgres(settings.data_dir / "replicated")
    console.print(f"[dim]starting a replicated PostgreSQL pair in {pair.folder}…[/dim]")
    try:
        pair.start()
    except (EmbeddedUnavailable, ReplicationError) as exc:
        pair.stop()
        fail("up", str(exc))
    try:
        os.environ["DATABASE_URL"] = pair.database_url
        print_ledger_pair(pair)
        yield settings_or_exit()
    finally:
        pair.stop()


@click.command()
@click.option("--port", type=int, default=None, help="HTTP port (default: PORT or 8000).")
@click.option("--replicated", is_flag=True,
              help="Keep the ledger on a PostgreSQL primary with a synchronous standby "
                   "(both started here; a vote is acknowledged once it is on both).")
def up(port: int | None, replicated: bool) -> None:
    """Start everything on this machine: stores, migrations, demo contest, server."""
    os.environ.setdefault("SELF_SERVICE_TOKENS", "true")  # the demo viewer page needs them
    os.environ.setdefault("LOG_FORMAT", "console")  # the demo runs in a person's terminal
    os.environ[UP_MODE] = "1"  # the demo on one machine: any ADMIN_TOKEN will do
    base = settings_or_exit()
    with (_replicated_ledger(base) if replicated else nullcontext(base)) as base, \
            stores_for(base, "up", embedded=True) as settings:  # the demo: embedded stores
        settings = _migrate(settings)
        contest_id = _seed_demo(settings)
        port = port or settings.port
        print_welcome(settings, contest_id, port)
        _serve(settings, settings.host, port, workers=1)


@click.command()
@click.option("--host", default=None, help="Bind address (default: HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="HTTP port (default: PORT or 8000).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Worker processes; they share nothing but the stores.")
@embedded_option
def serve(host: str | None, port: int | None, workers: int, embedded: bool) -> None:
    """Apply migrations and serve the API, pages and websockets.

    Needs DATABASE_URL and REDIS_URL (exit 2 without them), unless --embedded.
    """
    from service.core.logs import configure_logging

    with stores_for(settings_or_exit(), "serve", embedded=embedded) as settings:
        configure_logging(settings.log_level, settings.log_format)  # all of it as records
        settings = _migrate(settings, quiet=True)
        _serve(settings, host or settings.host, port or settings.port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    with _shared_metrics_folder(workers):
        _run_uvicorn(settings, host, port, workers)


@contextmanager
def _shared_metrics_folder(workers: int) -> Iterator[None]:
    """The folder where several workers keep their metrics files for /metrics to add up
    (PROMETHEUS_MULTIPROC_DIR): made for this run and removed when it ends, so a server
    restarted every night leaves no folder behind each time. One the operator named is
    theirs, and is left alone."""
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    folder = tempfile.mkdtemp(prefix="silkvote-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    try:
        yield
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shutil.rmtree(folder, ignore_errors=True)


def _run_uvicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from service.core.http_timeouts import SlowClientProtocol
    from service.core.logs import logging_config
    from service.live.wire import DirectFrameProtocol
    from service.live.ws import WS_MAX_MESSAGE_BYTES

    # A supervised worker ties itself to the supervisor, so that a kill -9 of `serve`
    # does not leave it serving, orphaned, on the port (service/cli/worker.py).
    factory = ("service.cli.worker:create_worker_app" if workers > 1
               else "service.app:create_served_app")
    uvicorn.run(
        # ASGI 3, said rather than guessed: the vote lane in front of the app is a plain
        # callable returning the request's coroutine, which uvicorn's guess takes for ASGI 2
        factory, factory=True, interface="asgi3", host=host, port=port, workers=workers,
        # Our logging setup, which uvicorn applies here and again in each worker it spawns;
        # log_level=None leaves the levels to it. Access lines come from request_observer.
        log_config=logging_config(settings.log_level, settings.log_format), log_level=None,
        access_log=False, timeout_graceful_shutdown=10,
        # X-Forwarded-For is read by service/security/client_address.py from
        # TRUSTED_PROXIES only; uvicorn's own reading believes any peer it is told to
        proxy_headers=False,
        # uvicorn's 5 s default races clients and load balancers that reuse an idle
        # connection just as the server drops it: the request is lost to a reset.
        timeout_keep_alive=settings.keepalive_timeout_s,
        loop="uvloop", lifespan="on",
        # no "server: uvicorn" on every answer: it tells a scanner what to probe, tells a
        # client nothing, and was a sixth of the head uvicorn checks header by header
        server_header=False,
        # httptools plus HEADER_TIMEOUT_S / BODY_TIMEOUT_S against slow clients; uvicorn
        # itself bounds only the idle time between requests (timeout_keep_alive).
        http=SlowClientProtocol,
        ws=DirectFrameProtocol,  # uvicorn's sans-I/O websockets + ready-frame writes
        # Leaderboard messages are ~1-5 KB: deflate would save little bandwidth but cost
        # a zlib context per client (~64 KB each) and a compression per client per tick.
        ws_per_message_deflate=False,
        ws_max_size=WS_MAX_MESSAGE_BYTES,  # a few KiB: see service/live/ws.py
    )


@click.command()
@click.option("--status", "show_status", is_flag=True, help="List migrations, applied or pending.")
@embedded_option
def migrate(show_status: bool, embedded: bool) -> None:
    """Apply the shipped SQL migrations in order (safe to run from many processes).

    Needs DATABASE_URL (exit 2 without it), unless --embedded. MIGRATIONS_DIR
    overrides the migrations that come with the package.
    """
    with stores_for(settings_or_exit(), "migrate", embedded=embedded, redis=False) as settings:
        if not show_status:
            _migrate(settings)
            return
        from service.stores.migrations import status

        folder = _migrations_folder(settings)
        rows = run_db(settings, lambda conn: status(conn, folder))
        table = Table("migration", "applied at", "note")
        for row in rows:
            note = "" if row.checksum_matches else "[yellow]file changed since applied[/yellow]"
            table.add_row(row.migration.name, row.applied_at or "[cyan]pending[/cyan]", note)
        Console().print(table)


@click.command("seed-demo")
@embedded_option
def seed_demo_command(embedded: bool) -> None:
    """Create the Silk Way Star demo contest (12 countries + Rest of World).

    Needs DATABASE_URL (exit 2 without it), unless --embedded.
    """
    with stores_for(settings_or_exit(), "seed-demo", embedded=embedded, redis=False) as settings:
        settings = _migrate(settings)
        _seed_demo(settings)


def page_urls(base: str, contest_id: str) -> list[tuple[str, str]]:
    """Every page and API a person may want after start-up."""
    return [
        ("Viewer voting page", f"{base}/vote/{contest_id}"),
        ("Jury tablet page", f"{base}/jury"),
        ("Producer console", f"{base}/console/{contest_id}"),
        ("Broadcast overlay", f"{base}/overlay/{contest_id}"),
        ("Results (live)", f"{base}/api/v1/contests/{contest_id}/results?source=live"),
        ("Leaderboard websocket",
         f"{base.replace('http', 'ws', 1)}/ws/contests/{contest_id}/leaderboard"),
        ("API docs", f"{base}/schema/swagger"),
        ("OpenAPI document", f"{base}/schema"),
        ("Health", f"{base}/healthz"),
        ("Metrics", f"{base}/metrics"),
    ]


def print_ledger_pair(pair: ReplicatedPostgres) -> None:
    """Both servers of `up --replicated`, the URL that finds the primary, and how to
    fail over by hand."""
    out = Console()
    out.rule("[bold]Ledger: PostgreSQL primary + synchronous standby[/bold]")
    for role, address in pair.addresses():
        out.print(f"  {role:<24}{address}", highlight=False)
    out.print(f"  {'DATABASE_URL':<24}{pair.database_url}", soft_wrap=True, highlight=False)
    if pair.standby is not None:
        as_user = f"runuser -u {pair.user} -- " if pair.user else ""
        out.print(f"  Fail over: kill -9 {pair.primary.pid()}, then {as_user}"
                  f"{pair.binary('pg_ctl')} promote -D {pair.standby.data}\n",
                  soft_wrap=True, highlight=False)


def admin_token_line(settings: Settings) -> str:
    """The token is shown only if `up` generated it: one the operator set came from a
    secret store and must not be copied into terminal scrollback and CI logs."""
    if settings.admin_token_generated:
        return (f"Admin token: [bold yellow]{settings.admin_token}[/bold yellow]"
                f"  (generated, kept in {settings.data_dir / 'secrets'}; "
                "set ADMIN_TOKEN to choose one)")
    return "Admin token: the ADMIN_TOKEN you set (not shown)"


def print_welcome(settings: Settings, contest_id: str, port: int) -> None:
    base = f"http://{settings.host}:{port}"
    out = Console()
    out.rule("[bold]SilkVote is starting[/bold]")
    for label, url in page_urls(base, contest_id):
        out.print(f"  {label:<24}{url}", soft_wrap=True, highlight=False)
    out.print(f"\n{admin_token_line(settings)}")
    out.print(f"Data folder: {settings.data_dir}   Stop with Ctrl-C.\n")
