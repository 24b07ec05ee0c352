"""The files of an export folder: what `silkvote export` writes and `silkvote audit` reads.

Both kinds of package (the whole ledger, one broadcaster's breakdown) share the layout;
a breakdown adds its proof and its aggregate table and holds only its country's records.

    contest.json     the contest definition (entries, voting countries, rules, jury size)
    seal.json        the signed statement, its public key, signature and fingerprint
    result.json      the result scored from the sealed records (its hash is signed)
    records.txt      canonical records, one a line, in tree order (records.py)
    leaves.bin       the sealed leaf hash of each record, 32 bytes each, same order: the
                     audit rebuilds the root from them, then names the first record whose
                     own hash differs from its leaf (edited, added or dropped)
    proof.json       the package's leaf range and the hashes tying it to the root (for the
                     whole ledger: every leaf, no hashes)
    breakdown.csv    breakdown only: audience votes by entry × channel × minute
    summary.html, summary.pdf   printable summary (substitutes, voids, sets)
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from service.verify.statement import Seal

CONTEST, SEAL, RESULT, RECORDS = "contest.json", "seal.json", "result.json", "records.txt"
LEAVES, PROOF, BREAKDOWN = "leaves.bin", "proof.json", "breakdown.csv"
SUMMARY_HTML, SUMMARY_PDF = "summary.html", "summary.pdf"
BREAKDOWN_HEADER = ("entry", "channel", "minute", "votes", "void")


class RangeProof(msgspec.Struct, frozen=True, kw_only=True):
    """Records [first, end) of a tree of `size` leaves, and the hashes (hex) between them
    and the root (service/verify/merkle.py, `range_proof`)."""

    country: str
    first: int
    end: int
    size: int
    hashes: list[str]


def read_seal(folder: Path) -> Seal:
    return msgspec.json.decode((folder / SEAL).read_bytes(), type=Seal)


def read_proof(folder: Path) -> RangeProof:
    return msgspec.json.decode((folder / PROOF).read_bytes(), type=RangeProof)


def read_leaves(folder: Path) -> list[bytes]:
    data = (folder / LEAVES).read_bytes()
    if len(data) % 32:
        raise ValueError(f"{LEAVES} is {len(data)} bytes, not a whole number of hashes")
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def record_lines(folder: Path) -> list[bytes]:
    """The records file's lines, without their newlines (a final newline ends the last)."""
    return split_lines((folder / RECORDS).read_bytes())


def split_lines(data: bytes) -> list[bytes]:
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines
