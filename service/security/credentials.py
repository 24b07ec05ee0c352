"""Secrets and identities at rest: compared in constant time, stored only as hashes.

Aggregator keys and juror codes are high-entropy secrets, so a plain salted SHA-256 is
enough to look them up without keeping them. Voter identities (phone numbers, device
ids) are low-entropy, so they are stored only as keyed hashes whose key is
configuration, never in the database.

Every keyed hash is keyed per contest: the key is derived from the service secret
(VOTER_HASH_KEY), the contest id and what is hashed, so a voter's (or a network's, or a
token's) hash in one contest cannot be linked to its hash in another, and a ledger
export of one show gives nothing away about the next. The keyed hash is BLAKE2b in its
keyed mode (RFC 7693), a MAC in one pass, from a keyed state copied per value: on the
vote path it costs a quarter of an HMAC-SHA256, whose OpenSSL context is set up anew
for every message.

Secrets that are not configured are kept in files of the data folder, private from
the moment they exist (`read_or_create_secret`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

KEYED_HASH_BYTES = 16  # network and token hashes: grouping keys for the integrity report


def secrets_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def hash_secret(secret: str) -> bytes:
    """Hash of a high-entropy secret (aggregator key, juror code) for storage and lookup."""
    return hashlib.sha256(b"silkvote-secret:" + secret.encode()).digest()


def contest_key(secret: str, contest: str, purpose: str) -> bytes:
    """The key of one contest for one `purpose` ("voter", "network", "token")."""
    return hmac.digest(secret.encode(), f"silkvote-{purpose}\0{contest}".encode(), "sha256")


def voter_hash(voter_hash_key: str, contest: str, upstream_identity: str) -> bytes:
    """Keyed hash of a phone number or device id in `contest`; the clear value is never
    stored, and the same identity hashes differently in every contest."""
    return voter_hasher(voter_hash_key, contest)(upstream_identity)


def _keyed(secret: str, contest: str, purpose: str, size: int) -> Callable[[bytes], bytes]:
    """Keyed BLAKE2b of `size` bytes with the contest's key for `purpose`."""
    keyed = hashlib.blake2b(key=contest_key(secret, contest, purpose), digest_size=size)

    def digest(value: bytes) -> bytes:
        mac = keyed.copy()
        mac.update(value)
        return mac.digest()

    return digest


@functools.lru_cache(maxsize=256)
def voter_hasher(voter_hash_key: str, contest: str) -> Callable[[str], bytes]:
    """`voter_hash` with the key schedule done once (batches hash thousands of ids)."""
    keyed = _keyed(voter_hash_key, contest, "voter", 32)

    def digest(upstream_identity: str) -> bytes:
        return keyed(upstream_identity.encode())

    return digest


def network_prefix(host: str) -> str | None:
    """The client's network as the integrity report groups it: the /24 of an IPv4
    address, the /48 of an IPv6 one (an IPv4-mapped IPv6 address counts as IPv4);
    None for a host that is no IP address (a test client, a Unix socket)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


@functools.lru_cache(maxsize=256)
def network_hasher(voter_hash_key: str, contest: str) -> Callable[[str], bytes | None]:
    """Keyed hash of a client address's network prefix in `contest` (None for a host
    that is no IP address). Remembered per address: a viewer votes several times from
    one address, and parsing one costs more than the hash."""
    keyed = _keyed(voter_hash_key, contest, "network", KEYED_HASH_BYTES)

    @functools.lru_cache(maxsize=65_536)
    def digest(host: str) -> bytes | None:
        prefix = network_prefix(host)
        return None if prefix is None else keyed(prefix.encode())

    return digest


def network_hash(voter_hash_key: str, contest: str, network: str) -> bytes:
    """The stored hash of a network prefix written as a CIDR ("203.0.113.0/24"), as
    `network_hasher` computes it for an address inside it (void rules name networks)."""
    prefix = str(ipaddress.ip_network(network, strict=False))
    return _keyed(voter_hash_key, contest, "network", KEYED_HASH_BYTES)(prefix.encode())


@functools.lru_cache(maxsize=256)
def token_hasher(voter_hash_key: str, contest: str) -> Callable[[str], bytes]:
    """Keyed hash of a voter token in `contest`: which votes came with one token,
    without storing the token (a credential). Remembered per token, as the signer
    remembers a genuine token's claims (`security/tokens.py`): a viewer votes up to the
    cap with one token, and the lookup costs a quarter of the hash."""
    keyed = _keyed(voter_hash_key, contest, "token", KEYED_HASH_BYTES)

    @functools.lru_cache(maxsize=16_384)
    def digest(token: str) -> bytes:
        return keyed(token.encode())

    return digest


def new_secret(prefix: str, nbytes: int = 24) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def new_juror_code() -> str:
    """A code a juror can type on a tablet: 12 characters from an unambiguous alphabet."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def read_or_create_secret(path: Path, nbytes: int = 32) -> tuple[str, bool]:
    """The secret kept in `path`, created now if missing; (secret, created).

    Created private from the start: the folder 0700 and the file 0600 as they come
    into being (os.open with a mode, O_EXCL), never written first and chmod'ed after,
    which would leave a moment when others may read it. Two processes creating it at
    once agree: the loser of the O_EXCL race reads the winner's.
    """
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        folder.chmod(0o700)  # a folder made by an older version, 0755
    try:
        return path.read_text().strip(), False
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(nbytes)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip(), False
    with os.fdopen(fd, "w") as out:
        out.write(value)
    return value, True
