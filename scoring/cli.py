"""``python -m scoring`` (and ``silkvote score``): score a result sheet.

    python -m scoring SHEET.json            # '-' reads standard input
    python -m scoring --from-eurovision-csv DIR --year 2019 --round final [--official-points]
    python -m scoring ... --sheet-only      # print the sheet instead of the result

The result (or sheet) is printed as JSON on standard output with exit status 0. A sheet
that breaks the rules prints one line ``field: problem`` on standard error and exits 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec

from scoring.decode import decode_sheet
from scoring.engine import score
from scoring.errors import SheetError
from scoring.models import Sheet
from scoring.validate import validate_sheet


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m scoring",
        description="Score a result sheet (docs/scoring-io.md) and print the result JSON.",
    )
    parser.add_argument("sheet", nargs="?", help="the sheet JSON file ('-' for standard input)")
    parser.add_argument(
        "--from-eurovision-csv", metavar="DIR", help="build the sheet from the Eurovision CSVs"
    )
    parser.add_argument("--year", type=int, help="with --from-eurovision-csv: 2016..2019")
    parser.add_argument(
        "--round", help="with --from-eurovision-csv: final, semi-final-1 or semi-final-2"
    )
    parser.add_argument(
        "--official-points",
        action="store_true",
        help="with --from-eurovision-csv: official jury points instead of juror rankings",
    )
    parser.add_argument("--sheet-only", action="store_true", help="print the sheet, not the result")
    parser.add_argument("--compact", action="store_true", help="one-line JSON output")
    return parser


def _load(args: argparse.Namespace) -> Sheet:
    if args.from_eurovision_csv:
        if args.sheet:
            raise _UsageError("give either SHEET or --from-eurovision-csv, not both")
        if args.year is None or not args.round:
            raise _UsageError("--from-eurovision-csv needs --year and --round")
        from scoring.eurovision_csv import sheet_from_eurovision_csv

        try:
            sheet = sheet_from_eurovision_csv(
                args.from_eurovision_csv,
                args.year,
                args.round,
                use_rankings=not args.official_points,
            )
        except (OSError, ValueError, KeyError) as exc:
            raise SheetError("--from-eurovision-csv", str(exc)) from None
        validate_sheet(sheet)
        return sheet
    if not args.sheet:
        raise _UsageError("give a SHEET.json file or --from-eurovision-csv DIR")
    try:
        data = sys.stdin.buffer.read() if args.sheet == "-" else Path(args.sheet).read_bytes()
    except OSError as exc:
        raise SheetError("sheet", f"cannot read {args.sheet}: {exc.strerror or exc}") from None
    return decode_sheet(data)


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 2 bad sheet or bad usage)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        sheet = _load(args)
        output: object = sheet if args.sheet_only else score(sheet)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except _UsageError as exc:
        print(f"usage: {exc} (see python -m scoring --help)", file=sys.stderr)
        return 2
    except SheetError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    text = msgspec.json.encode(output)
    if not args.compact:
        text = msgspec.json.format(text, indent=2)
    sys.stdout.buffer.write(text + b"\n")
    sys.stdout.flush()
    return 0
