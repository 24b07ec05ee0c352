"""Commands on the ledger and its derived data: score, recount, verify, export."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from service.cli.context import (
    console,
    embedded_option,
    fail,
    run_with_runtime,
    settings_or_exit,
    stores_for,
)
from service.runtime import Runtime


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def score(args: tuple[str, ...]) -> None:
    """Score a result sheet: SHEET.json, or --from-eurovision-csv DIR --year Y --round R.

    Prints the result JSON (docs/scoring-io.md); a bad sheet exits 2 naming the field.
    """
    from scoring.cli import main as scoring_main

    sys.exit(scoring_main(list(args)))


@click.command()
@click.argument("contest", required=False)
@embedded_option
def recount(contest: str | None, embedded: bool) -> None:
    """Rebuild live tallies (Redis) and cap counters from the ledger (PostgreSQL).

    Safe while votes flow: tallies are compared and repaired at the ledger's newest
    batch, after the tally updates in flight have had their time to land.

    Needs DATABASE_URL and REDIS_URL (exit 2 without them), unless --embedded.
    """
    from rich.progress import Progress

    from service.ops.maintenance import contest_ids
    from service.ops.maintenance import recount as recount_contest

    async def work(rt: Runtime) -> None:
        ids = await contest_ids(rt, contest)
        with Progress(console=console) as progress:
            task = progress.add_task("recounting", total=len(ids))
            for contest_id in ids:
                progress.update(task, description=f"recounting {contest_id}")
                found, caps = await recount_contest(rt, await rt.contests.get(contest_id))
                moved = sum(abs(d.ledger - d.live) for d in found.differences)
                progress.console.print(
                    f"{contest_id}: ledger {found.ledger_total} votes at batch "
                    f"{found.batch}, {len(found.differences)} tally cells repaired "
                    f"({moved} votes), {caps} cap counters corrected")
                progress.advance(task)

    with stores_for(settings_or_exit(), "recount", embedded=embedded) as settings:
        run_with_runtime(settings, work)


@click.command()
@click.argument("contest", required=False)
@click.option("--audit", is_flag=True, help="Also re-walk the ballot audit hash chain.")
@click.option("--seal", "sealed", metavar="CONTEST",
              help="Instead: check CONTEST's ledger against its seal, row by row.")
@click.option("--pin", metavar="EVENTS:HEAD_HASH", default=None,
              help="With --audit and a CONTEST: a checkpoint taken earlier (GET …/audit/"
                   "checkpoint); a chain rewritten up to it is reported.")
@embedded_option
def verify(contest: str | None, audit: bool, sealed: str | None, pin: str | None,
           embedded: bool) -> None:
    """Compare live tallies with the ledger; print every difference (exit 1 if any).

    Both are compared at the ledger's newest batch, so differences are real even while
    votes flow; a difference waits up to 2.5 s for tally updates in flight.

    With --seal CONTEST: re-read the sealed contest's ledger and name the first row that
    changed, was added or went missing since the seal (needs DATABASE_URL only).

    Needs DATABASE_URL and REDIS_URL (exit 2 without them), unless --embedded.
    """
    if sealed:
        from service.cli.verification import verify_seal

        sys.exit(verify_seal(sealed, embedded))
    from service.audit.chain import Checkpoint
    from service.ops.maintenance import contest_ids

    pinned = None
    if pin is not None:
        events, _, head = pin.partition(":")
        if not (contest and audit and events.isdigit() and head):
            fail("verify", "--pin takes EVENTS:HEAD_HASH, with --audit and one CONTEST")
        pinned = Checkpoint(contest, int(events), head, None)

    async def work(rt: Runtime) -> int:
        failures = 0
        for contest_id in await contest_ids(rt, contest):
            found = await rt.tally_check.compare(await rt.contests.get(contest_id))
            state = "[green]OK[/green]" if found.ok else "[red]DIFFERS[/red]"
            Console().print(f"{contest_id}: {state}  at ledger batch {found.batch}: "
                            f"ledger {found.ledger_total}, live {found.live_total}")
            if found.differences:
                table = Table("voting country", "entry", "live", "ledger")
                for d in found.differences:
                    table.add_row(d.country, d.entry, str(d.live), str(d.ledger))
                Console().print(table)
            if not found.ok:
                failures += 1
            if audit:
                problems = await rt.audit.problems(contest_id, pinned)
                for problem in problems:
                    Console().print(f"  [red]audit:[/red] {problem}")
                if problems:
                    failures += 1
                else:
                    Console().print("  audit chain intact")
        return failures

    with stores_for(settings_or_exit(), "verify", embedded=embedded) as settings:
        failures = run_with_runtime(settings, work)
    sys.exit(1 if failures else 0)


@click.command()
@click.option("--ballots", "contest", metavar="CONTEST",
              help="Export every ballot version and the audit trail of CONTEST.")
@click.option("--ledger", metavar="CONTEST",
              help="Export CONTEST's sealed ledger: records, leaves, seal, result, summary.")
@click.option("--breakdown", metavar="CONTEST",
              help="Export one broadcaster's sealed package of CONTEST (with --country).")
@click.option("--country", metavar="CC", help="The voting country of --breakdown.")
@click.option("--out", "out_dir", type=click.Path(), default=".", show_default=True,
              help="Folder for the files.")
@embedded_option
def export(contest: str | None, ledger: str | None, breakdown: str | None,
           country: str | None, out_dir: str, embedded: bool) -> None:
    """Write a package for the independent scrutineer, broadcaster or observer.

    --ballots: ballots and the audit trail as CSV (needs DATABASE_URL and REDIS_URL).
    --ledger / --breakdown: a sealed package `silkvote audit` checks offline (needs
    DATABASE_URL); exit 1 if the contest is not sealed or its ledger no longer matches.
    Without the URLs, exit 2 unless --embedded.
    """
    from pathlib import Path

    from service.ops.maintenance import export_ballots

    if sum(bool(x) for x in (contest, ledger, breakdown)) != 1:
        raise click.UsageError("give exactly one of --ballots, --ledger, --breakdown")
    if ledger or breakdown:
        from service.cli.verification import export_sealed

        export_sealed(ledger, breakdown, country, Path(out_dir), embedded)
        return
    assert contest

    with stores_for(settings_or_exit(), "export", embedded=embedded) as settings:
        paths = run_with_runtime(settings, lambda rt: export_ballots(rt, contest, Path(out_dir)))
    for path in paths:
        Console().print(f"wrote {path}")
