"""`silkvote`: the command line for operators (start, migrate, seed, score, recount…).

Commands that need the stores use DATABASE_URL / REDIS_URL when set, and otherwise the
embedded servers of the data folder (started if needed, reused if `make run` already
runs them).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg
import click
from rich.console import Console
from rich.table import Table

from service.core.config import ConfigError, Settings, load_settings
from service.stores.embedded import EmbeddedStores, ensure_stores

console = Console(stderr=True)
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        sys.exit(2)


@contextmanager
def stores_for(settings: Settings) -> Any:
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


def _migrate(settings: Settings) -> None:
    from service.stores.migrations import apply

    applied = run_db(settings, lambda conn: apply(conn, settings.migrations_dir))
    for migration in applied:
        console.print(f"applied [bold]{migration.name}[/bold]")
    if not applied:
        console.print("[dim]schema is up to date[/dim]")


def _seed_demo(settings: Settings) -> str:
    from service.contests.demo import seed_demo

    contest_id, created = run_db(settings, seed_demo)
    console.print(f"demo contest [bold]{contest_id}[/bold] {'created' if created else 'present'}")
    return contest_id


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """SilkVote: voting and results engine for live song contests.

    \b
    Quick start:   silkvote up        (embedded stores, demo contest, serve)
    Configuration: environment variables or .env — see README.md.
    """


@main.command()
@click.option("--port", type=int, default=None, help="HTTP port (default: PORT or 8000).")
def up(port: int | None) -> None:
    """Start everything on this machine: stores, migrations, demo contest, server."""
    os.environ.setdefault("SELF_SERVICE_TOKENS", "true")  # the demo viewer page needs them
    base = _settings()
    with stores_for(base) as settings:
        _migrate(settings)
        contest_id = _seed_demo(settings)
        port = port or settings.port
        print_welcome(settings, contest_id, port)
        _serve(settings, settings.host, port, workers=1)


@main.command()
@click.option("--host", default=None, help="Bind address (default: HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="HTTP port (default: PORT or 8000).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Worker processes; they share nothing but the stores.")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Apply migrations and serve the API, pages and websockets."""
    with stores_for(_settings()) as settings:
        _migrate(settings)
        _serve(settings, host or settings.host, port or settings.port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import tempfile

    import uvicorn

    from service.live.wire import DirectFrameProtocol

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="silkvote-metrics-")
    uvicorn.run(
        "service.app:create_app", factory=True, host=host, port=port, workers=workers,
        log_level="warning", access_log=False, timeout_graceful_shutdown=10,
        # uvicorn's 5 s default races clients and load balancers that reuse an idle
        # connection just as the server drops it: the request is lost to a reset.
        timeout_keep_alive=settings.keepalive_timeout_s,
        loop="uvloop", http="httptools", lifespan="on",
        ws=DirectFrameProtocol,  # uvicorn's sans-I/O websockets + ready-frame writes
        # Leaderboard messages are ~1-5 KB: deflate would save little bandwidth but cost
        # a zlib context per client (~64 KB each) and a compression per client per tick.
        ws_per_message_deflate=False,
    )


@main.command()
@click.option("--status", "show_status", is_flag=True, help="List migrations, applied or pending.")
def migrate(show_status: bool) -> None:
    """Apply the SQL files in migrations/ in order (safe to run from many processes)."""
    with stores_for(_settings()) as settings:
        if not show_status:
            _migrate(settings)
            return
        from service.stores.migrations import status

        rows = run_db(settings, lambda conn: status(conn, settings.migrations_dir))
        table = Table("migration", "applied at", "note")
        for row in rows:
            note = "" if row.checksum_matches else "[yellow]file changed since applied[/yellow]"
            table.add_row(row.migration.name, row.applied_at or "[cyan]pending[/cyan]", note)
        Console().print(table)


@main.command("seed-demo")
def seed_demo_command() -> None:
    """Create the Silk Way Star demo contest (12 countries + Rest of World)."""
    with stores_for(_settings()) as settings:
        _migrate(settings)
        _seed_demo(settings)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def score(args: tuple[str, ...]) -> None:
    """Score a result sheet: SHEET.json, or --from-eurovision-csv DIR --year Y --round R.

    Prints the result JSON (spec/scoring-io.md); a bad sheet exits 2 naming the field.
    """
    from scoring.cli import main as scoring_main

    sys.exit(scoring_main(list(args)))


def run_with_runtime(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run one coroutine with the same pools and clients the server uses."""
    from service.app import close_runtime, open_runtime

    async def main() -> T:
        rt = await open_runtime(settings)
        try:
            return await work(rt)
        finally:
            await close_runtime(rt)

    return asyncio.run(main())


@main.command()
@click.argument("contest", required=False)
def recount(contest: str | None) -> None:
    """Rebuild live tallies (Redis) and cap counters from the ledger (PostgreSQL)."""
    from rich.progress import Progress

    from service.ops.maintenance import contest_ids
    from service.ops.maintenance import recount as recount_contest

    async def work(rt: Any) -> None:
        ids = await contest_ids(rt, contest)
        with Progress(console=console) as progress:
            task = progress.add_task("recounting", total=len(ids))
            for contest_id in ids:
                progress.update(task, description=f"recounting {contest_id}")
                found, caps = await recount_contest(rt, await rt.contests.get(contest_id))
                moved = sum(abs(d.ledger - d.live) for d in found.differences)
                progress.console.print(
                    f"{contest_id}: ledger {found.ledger_total} votes, "
                    f"{len(found.differences)} tally cells repaired ({moved} votes), "
                    f"{caps} cap counters corrected")
                progress.advance(task)

    with stores_for(_settings()) as settings:
        run_with_runtime(settings, work)


@main.command()
@click.argument("contest", required=False)
@click.option("--audit", is_flag=True, help="Also re-walk the ballot audit hash chain.")
def verify(contest: str | None, audit: bool) -> None:
    """Compare live tallies with the ledger; print every difference (exit 1 if any)."""
    from service.intake.reconcile import compare
    from service.ops.maintenance import audit_problems, contest_ids

    async def work(rt: Any) -> int:
        failures = 0
        for contest_id in await contest_ids(rt, contest):
            found = await compare(rt, await rt.contests.get(contest_id))
            state = "[green]OK[/green]" if found.ok else "[red]DIFFERS[/red]"
            Console().print(f"{contest_id}: {state}  ledger {found.ledger_total}, "
                            f"live {found.live_total}")
            if found.differences:
                table = Table("voting country", "entry", "live", "ledger")
                for d in found.differences:
                    table.add_row(d.country, d.entry, str(d.live), str(d.ledger))
                Console().print(table)
                failures += 1
            if audit:
                problems = await audit_problems(rt, contest_id)
                for problem in problems:
                    Console().print(f"  [red]audit:[/red] {problem}")
                if problems:
                    failures += 1
                else:
                    Console().print("  audit chain intact")
        return failures

    with stores_for(_settings()) as settings:
        failures = run_with_runtime(settings, work)
    sys.exit(1 if failures else 0)


@main.command()
@click.option("--ballots", "contest", required=True, metavar="CONTEST",
              help="Export every ballot version and the audit trail of CONTEST.")
@click.option("--out", "out_dir", type=click.Path(), default=".", show_default=True,
              help="Folder for the CSV files.")
def export(contest: str, out_dir: str) -> None:
    """Write ballots and the audit trail to CSV for the independent scrutineer."""
    from pathlib import Path

    from service.ops.maintenance import export_ballots

    with stores_for(_settings()) as settings:
        paths = run_with_runtime(settings, lambda rt: export_ballots(rt, contest, Path(out_dir)))
    for path in paths:
        Console().print(f"wrote {path}")


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


def print_welcome(settings: Settings, contest_id: str, port: int) -> None:
    base = f"http://{settings.host}:{port}"
    out = Console()
    out.rule("[bold]SilkVote is starting[/bold]")
    for label, url in page_urls(base, contest_id):
        out.print(f"  {label:<24}{url}", soft_wrap=True, highlight=False)
    hint = "  (generated; set ADMIN_TOKEN to choose one)" if settings.admin_token_generated else ""
    out.print(f"\nAdmin token: [bold yellow]{settings.admin_token}[/bold yellow]{hint}")
    out.print(f"Data folder: {settings.data_dir}   Stop with Ctrl-C.\n")


if __name__ == "__main__":
    main()
