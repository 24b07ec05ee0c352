"""Commands on sealed ledgers: seal, export a package, audit one offline.

`silkvote audit DIR` needs no store and no configuration at all: it is what an observer
runs on a package someone handed them. The others need DATABASE_URL only.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from service.cli.context import embedded_option, fail, settings_or_exit, stores_for
from service.verify.audit import Audit, Check

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)


def with_ledger(command: str, embedded: bool, work: Callable[[str], Coroutine[Any, Any, T]]) -> T:
    """Run `work(database_url)` on the configured (or, with --embedded, local) ledger."""
    with stores_for(settings_or_exit(), command, embedded=embedded, redis=False) as settings:
        assert settings.database_url
        return asyncio.run(work(settings.database_url))


@click.command()
@click.argument("contest")
@embedded_option
def seal(contest: str, embedded: bool) -> None:
    """Seal CONTEST's ledger now (its window closed, its jury locked) and print the seal.

    The same as POST /api/v1/contests/CONTEST/seal; a sealed contest prints its seal.
    """
    from service.core.errors import ApiError
    from service.seal.keys import SealKeys
    from service.seal.sealer import Sealer
    from service.verify.statement import fingerprint

    settings = settings_or_exit()

    async def work(url: str) -> None:
        sealer = Sealer(url, SealKeys(settings.seal_secret))
        row, made = await sealer.seal(contest)
        if made:
            await sealer.index_receipts(contest)
        verb = "sealed" if made else "already sealed"
        out.print(f"{contest}: {verb} {row['records']} records at "
                  f"{row['sealed_at'].isoformat()}, fingerprint "
                  f"{fingerprint(row['root'].hex())}, root {row['root'].hex()}")

    try:
        with_ledger("seal", embedded, work)
    except ApiError as exc:
        fail("seal", str(exc))


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def audit(folder: Path) -> None:
    """Check an export FOLDER offline: signature, Merkle root, records, result.

    Needs no database and no network. Prints every check with PASS or FAIL and exits 1
    if any fails, naming the first bad record.
    """

    def show(check: Check) -> None:
        state = "[green]PASS[/green]" if check.ok else "[red]FAIL[/red]"
        out.print(f"{state}  {check.name:<12} {escape(check.detail)}")

    ok = Audit(folder, show).run()
    out.print("audit passed" if ok else "[red]audit failed[/red]")
    sys.exit(0 if ok else 1)


def export_sealed(ledger: str | None, breakdown: str | None, country: str | None,
                  folder: Path, embedded: bool) -> None:
    """`silkvote export --ledger` / `--breakdown` (the ballots export stays in ledger.py)."""
    from service.seal.exports import ExportError, export_breakdown, export_ledger

    if breakdown and not country:
        fail("export", "--breakdown needs --country CC (the broadcaster's voting country)")

    async def work(url: str) -> list[Path]:
        if ledger:
            return await export_ledger(url, ledger, folder)
        assert breakdown and country
        return await export_breakdown(url, breakdown, country.upper(), folder)

    try:
        paths = with_ledger("export", embedded, work)
    except ExportError as exc:
        out.print(f"[red]silkvote export:[/red] {escape(str(exc))}")
        sys.exit(1)
    for path in paths:
        out.print(f"wrote {path}")


def verify_seal(contest: str, embedded: bool) -> int:
    """`silkvote verify --seal`: 0 if the ledger still matches its seal, else 1."""
    from service.seal.ledger_check import check_ledger

    report = with_ledger("verify", embedded, lambda url: check_ledger(url, contest))
    if report.ok:
        out.print(f"{contest}: [green]SEALED LEDGER INTACT[/green]  {report.records} records "
                  f"match the seal {report.fingerprint}")
        return 0
    out.print(f"{contest}: [red]DOES NOT MATCH ITS SEAL[/red]")
    for problem in report.problems:
        out.print(f"  {escape(problem)}")
    return 1
