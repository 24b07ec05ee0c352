"""Secrets and identities at rest: compared in constant time, stored only as hashes.

Aggregator keys and juror codes are high-entropy secrets, so a plain salted SHA-256 is
enough to look them up without keeping them. Voter identities (phone numbers, device
ids) are low-entropy, so they are stored only as keyed hashes whose key is
configuration, never in the database.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable


def secrets_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def hash_secret(secret: str) -> bytes:
    """Hash of a high-entropy secret (aggregator key, juror code) for storage and lookup."""
    return hashlib.sha256(b"silkvote-secret:" + secret.encode()).digest()


def voter_hash(voter_hash_key: str, upstream_identity: str) -> bytes:
    """Keyed hash of a phone number or device id; the clear value is never stored."""
    return voter_hasher(voter_hash_key)(upstream_identity)


@functools.cache
def voter_hasher(voter_hash_key: str) -> Callable[[str], bytes]:
    """`voter_hash` with the key schedule done once (batches hash thousands of ids)."""
    keyed = hmac.new(voter_hash_key.encode(), digestmod=hashlib.sha256)

    def digest(upstream_identity: str) -> bytes:
        mac = keyed.copy()
        mac.update(upstream_identity.encode())
        return mac.digest()

    return digest


def new_secret(prefix: str, nbytes: int = 24) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def new_juror_code() -> str:
    """A code a juror can type on a tablet: 12 characters from an unambiguous alphabet."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
