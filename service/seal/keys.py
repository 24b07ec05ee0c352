"""Each contest's Ed25519 signing key, derived from one secret.

The key must be the same in every process and pod that might seal the contest, and it
must exist before the show (its public half is on the contest's page from the start),
so it is not generated per contest and stored: it is derived with HKDF-SHA256 from
SEAL_SECRET (set it like SIGNING_SECRET, or it is generated once into the data folder)
and the contest id. Nothing private is written to the database; rotating SEAL_SECRET
changes the keys of contests not yet sealed, while a sealed contest's public key is kept
with its seal.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


class SealKeys:
    def __init__(self, seal_secret: str) -> None:
        if not seal_secret:
            raise ValueError("SEAL_SECRET is empty")
        self._secret = seal_secret.encode()

    def private_key(self, contest_id: str) -> Ed25519PrivateKey:
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"silkvote-seal/1",
                    info=contest_id.encode()).derive(self._secret)
        return Ed25519PrivateKey.from_private_bytes(seed)

    def public_key(self, contest_id: str) -> bytes:
        return self.private_key(contest_id).public_key().public_bytes(*_RAW)

    def sign(self, contest_id: str, message: bytes) -> bytes:
        return self.private_key(contest_id).sign(message)
