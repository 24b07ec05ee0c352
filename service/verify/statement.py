"""What a contest's Ed25519 key signs when its ledger is sealed, and how to check it.

The signed bytes are a short text, one `name value` line each, so anyone can read what
was signed and re-create it from the seal's JSON without a JSON canonicaliser:

    silkvote-seal/1
    contest <id>
    records <n>          votes + ballots, the tree's size
    votes <n>
    ballots <n>
    root <hex>           the Merkle root (service/verify/merkle.py)
    result <hex>         SHA-256 of result.json, the result scored from those records
    sealed_at <ISO 8601, UTC>

The fingerprint shown on air is the root's first 8 bytes as four hex groups: short
enough to read out, long enough that nobody can find another ledger that matches it.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "silkvote-seal/1"


class SealStatement(msgspec.Struct, frozen=True, kw_only=True):
    contest: str
    records: int
    votes: int
    ballots: int
    root: str
    result: str
    sealed_at: datetime

    def signed_bytes(self) -> bytes:
        lines = [
            FORMAT, f"contest {self.contest}", f"records {self.records}",
            f"votes {self.votes}", f"ballots {self.ballots}", f"root {self.root}",
            f"result {self.result}", f"sealed_at {self.sealed_at.isoformat()}",
        ]
        return ("\n".join(lines) + "\n").encode()


class Seal(msgspec.Struct, frozen=True, kw_only=True):
    """A signed statement as the API and the export show it (`seal.json`)."""

    statement: SealStatement
    fingerprint: str
    public_key: str  # Ed25519, 32 bytes hex
    signature: str  # Ed25519, 64 bytes hex


def fingerprint(root_hex: str) -> str:
    """`3f2a-91c0-77de-0b15`: the first 8 bytes of the root."""
    head = root_hex[:16]
    return "-".join(head[i:i + 4] for i in range(0, 16, 4))


def signature_holds(seal: Seal) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(seal.public_key))
        key.verify(bytes.fromhex(seal.signature), seal.statement.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True
