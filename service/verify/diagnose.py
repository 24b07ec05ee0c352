"""Naming the first record where two sequences of leaves part: changed, added or missing.

Used against the ledger (`silkvote verify --seal`, every export) and against an export's
own sealed leaves (`silkvote audit`): at the first position where the records' hashes and
the sealed leaves differ, one record more or one fewer on either side tells an added or
a dropped record from an edited one.
"""

from __future__ import annotations

import msgspec


class Mismatch(msgspec.Struct, kw_only=True):
    position: int  # leaf index in the sealed tree
    kind: str  # "changed", "added", "missing", "extra", "short"
    ledger_record: str | None = None  # the ledger's record at that position, now
    message: str


def diagnose(position: int, now: list[bytes], lines: list[bytes], sealed: list[bytes]
             ) -> Mismatch:
    here = lines[0].decode(errors="replace") if lines else None
    if not now:
        return Mismatch(position=position, kind="missing", message=(
            f"sealed record #{position} and any after it are missing from the ledger"))
    if not sealed:
        return Mismatch(position=position, kind="added", ledger_record=here, message=(
            f"ledger row {here!r} (position {position}) was added after the seal"))
    if len(now) > 1 and now[1] == sealed[0]:
        return Mismatch(position=position, kind="added", ledger_record=here, message=(
            f"ledger row {here!r} was added after the seal (before sealed record "
            f"#{position})"))
    if len(sealed) > 1 and now[0] == sealed[1]:
        return Mismatch(position=position, kind="missing", ledger_record=here, message=(
            f"sealed record #{position} is missing from the ledger (it came just before "
            f"{here!r})"))
    return Mismatch(position=position, kind="changed", ledger_record=here, message=(
        f"ledger row at sealed position {position} changed since the seal: it now reads "
        f"{here!r}"))


