"""What the API shows of a seal and of a receipt (contract: docs/api.md, "Verification")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from service.verify.records import VoteRecord
from service.verify.statement import Seal, SealStatement, fingerprint


class SealView(msgspec.Struct, kw_only=True):
    """The seal in `GET …/results` and `POST …/seal` (hex strings throughout)."""

    root: str
    fingerprint: str
    records: int
    votes: int
    ballots: int
    result: str  # SHA-256 of the sealed result.json
    sealed_at: datetime
    signature: str
    public_key: str
    statement: str  # the exact signed bytes, as text


class Receipt(msgspec.Struct, kw_only=True):
    """One vote's sealed record and the audit path from its leaf to the signed root."""

    receipt: str
    record: str  # the canonical line (service/verify/records.py)
    vote: VoteRecord
    leaf_index: int
    tree_size: int
    proof: list[str]  # RFC 9162 audit path, bottom up, hex
    seal: SealView


def seal_view(row: Any) -> SealView:
    return SealView(
        root=row["root"].hex(), fingerprint=fingerprint(row["root"].hex()),
        records=row["records"], votes=row["votes"], ballots=row["ballots"],
        result=statement_of(row).result, sealed_at=row["sealed_at"],
        signature=row["signature"].hex(), public_key=row["public_key"].hex(),
        statement=row["statement"])


def statement_of(row: Any) -> SealStatement:
    fields = dict(line.split(" ", 1) for line in row["statement"].splitlines()[1:])
    return SealStatement(
        contest=fields["contest"], records=int(fields["records"]), votes=int(fields["votes"]),
        ballots=int(fields["ballots"]), root=fields["root"], result=fields["result"],
        sealed_at=row["sealed_at"])


def seal_document(row: Any) -> Seal:
    """`seal.json` of an export."""
    return Seal(statement=statement_of(row), fingerprint=fingerprint(row["root"].hex()),
                public_key=row["public_key"].hex(), signature=row["signature"].hex())
