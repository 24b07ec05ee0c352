"""`silkvote rehearse CONTEST`: a dress rehearsal on a copy, through a running server.

It talks to the server over HTTP (`--url`, default this machine's `PORT`) with the
admin token (`ADMIN_TOKEN`), exactly as the console and the partners do, so what it
rehearses is the real path: tokens, votes, batches, juror codes, ballots, the reveal.
"""

from __future__ import annotations

import asyncio
import os
import sys

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from service.cli.context import fail, settings_or_exit
from service.rehearsal.api import RehearsalApi, RehearsalError
from service.rehearsal.report import RehearsalReport, render
from service.rehearsal.run import rehearse as run_rehearsal

out = Console(highlight=False, soft_wrap=True)


@click.command()
@click.argument("contest")
@click.option("--url", default=None,
              help="The server's base URL (default: http://127.0.0.1:PORT, PORT or 8000).")
@click.option("--rate", type=click.FloatRange(0.1, 5000), default=50.0, show_default=True,
              help="Audience votes per second (singles and aggregator batches).")
@click.option("--seconds", type=click.FloatRange(0.2, 3600), default=10.0, show_default=True,
              help="How long the audience votes.")
@click.option("--seed", type=int, default=None, help="Seed the synthetic audience's choices.")
def rehearse(contest: str, url: str | None, rate: float, seconds: float,
             seed: int | None) -> None:
    """Rehearse CONTEST on a copy (<CONTEST>-rehearsal-<n>): synthetic viewers, an
    aggregator and jurors vote at --rate for --seconds, then the reveal runs to the end
    and the copy is verified. The real contest is not touched. Exit status 1 when
    verify finds differences."""
    settings = settings_or_exit()
    if not settings.admin_token:
        fail("rehearse", "ADMIN_TOKEN is not set: the rehearsal calls the admin API.")
    base = url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    try:
        report = asyncio.run(_run(base, settings.admin_token, contest, rate, seconds, seed))
    except RehearsalError as exc:
        fail("rehearse", str(exc))
    for line in render(report):
        out.print(line)
    sys.exit(0 if report.verify_ok else 1)


async def _run(base: str, token: str, contest: str, rate: float, seconds: float,
               seed: int | None) -> RehearsalReport:
    api = RehearsalApi(base, token)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    try:
        with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=max(total, 1))
                bar.update(tasks[phase], completed=done, total=max(total, done, 1))

            return await run_rehearsal(api, contest, rate, seconds, progress, seed)
    finally:
        await api.close()
