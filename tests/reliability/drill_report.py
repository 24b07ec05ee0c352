"""The operator's view of the drills: one table of every record in test-artifacts/drills/.

    python -m tests.reliability.drill_report [folder]

`make drills` runs it after the drill tests. The table is Markdown, so it reads in a
terminal and pastes into docs/reliability.md as it is. The exit status is 1 when there
is no record, or when a record shows an acknowledged vote lost, a vote counted twice or
a cap breached: the three things a drill must never show.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.reliability.drills import DRILLS, DrillRecord, read_records

COLUMNS = ("drill", "acknowledged", "in the ledger", "lost", "double", "cap breaches",
           "outage s", "time to exact tallies s")


def _row(record: DrillRecord) -> tuple[str, ...]:
    return (record.drill, f"{record.acknowledged:,}", f"{record.in_ledger:,}",
            str(record.lost), str(record.double), str(record.cap_breaches),
            f"{record.outage_s:.2f}", f"{record.exact_tallies_s:.2f}")


def table(records: list[DrillRecord]) -> str:
    """A Markdown table, its columns padded to line up; numbers right-aligned."""
    rows = [COLUMNS, *(_row(r) for r in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        padded = [cells[0].ljust(widths[0])]
        padded += [cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join(["-" * widths[0]] + ["-" * (w - 1) + ":" for w in widths[1:]])
    return "\n".join([line(COLUMNS), rule + " |", *(line(row) for row in rows[1:])])


def broken(records: list[DrillRecord]) -> list[str]:
    """The drills whose record shows a vote lost or doubled, or a cap breached."""
    return [r.drill for r in records if r.lost or r.double or r.cap_breaches]


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else DRILLS
    records = read_records(folder) if folder.is_dir() else []
    if not records:
        print(f"no drill records in {folder}: run `make drills`")
        return 1
    print(table(records))
    bad = broken(records)
    if bad:
        print(f"\nDRILLS THAT LOST, DOUBLED OR BREACHED A CAP: {', '.join(bad)}")
        return 1
    print(f"\n{len(records)} drills: no acknowledged vote lost, none counted twice, "
          "no cap breached.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
