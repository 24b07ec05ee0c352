"""`silkvote`: the command line for operators (start, migrate, seed, score, recount…)."""

from __future__ import annotations

import click

from service.cli import ledger, rehearsal, server, verification


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="silkvote", prog_name="silkvote",
                      message="%(prog)s %(version)s")  # the installed distribution's version
def main() -> None:
    """SilkVote: voting and results engine for live song contests.

    \b
    Quick start:   silkvote up        (embedded stores, demo contest, serve)
    Production:    DATABASE_URL=… REDIS_URL=… silkvote serve
    Configuration: environment variables or ./.env — see README.md.
    """


for command in (server.up, server.serve, server.migrate, server.seed_demo_command,
                ledger.score, ledger.recount, ledger.verify, ledger.export,
                verification.seal, verification.audit, rehearsal.rehearse):
    main.add_command(command)
