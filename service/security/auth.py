"""Who may call what: bearer tokens, the admin token, and the hashing of secrets.

Secrets (admin token, aggregator keys, juror codes) are compared in constant time and
stored only as hashes; voter identities are stored only as keyed hashes whose key is
configuration, never in the database.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection

from service.core.errors import forbidden, unauthorized
from service.security.tokens import Claims, TokenSigner


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token from `Authorization: Bearer …` (or `?token=` for websockets and pages)."""
    header = connection.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return connection.query_params.get("token") or None


def require_bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    token = bearer_token(connection)
    if token is None:
        raise unauthorized("send a token in 'Authorization: Bearer <token>'")
    return token


def contest_claims(connection: ASGIConnection[Any, Any, Any, Any], signer: TokenSigner,
                   kind: type[Claims], contest_id: str, what: str) -> Claims:
    """The verified claims of the bearer token (`what`: "voter token", "juror session"),
    which must be of `kind` and belong to `contest_id`."""
    claims = signer.verify(require_bearer(connection), kind)
    if claims is None:
        raise unauthorized(f"{what} is invalid or expired")
    if claims.contest != contest_id:
        raise forbidden(f"this {what} belongs to another contest")
    return claims


def secrets_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], admin_token: str) -> None:
    """Refuse anything but the admin token (401 when missing, 403 when wrong kind)."""
    token = require_bearer(connection)
    if not secrets_equal(token, admin_token):
        raise unauthorized("the admin token is required")


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


__all__ = [
    "bearer_token", "forbidden", "hash_secret", "new_secret", "require_admin",
    "require_bearer", "secrets_equal", "voter_hash",
]
