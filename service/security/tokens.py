"""Signed, self-contained tokens (HMAC-SHA256) for voters and jurors.

A token is `base64url(payload-json) "." base64url(mac)`. Verifying one costs a hash, not
a database round trip, which keeps the vote hot path cheap; the payload names its kind
and contest so a token minted for one purpose or contest is useless for another.

Each token has exactly one spelling: base64url without padding, whose unused trailing
bits are zero. Python's decoder is lenient (it drops characters outside the alphabet
and ignores those bits), so several strings would verify as the same token, and
anything keyed on a token's text (a log search, a block list, a hash of it) could be
dodged by respelling it. A part is accepted only if encoding what it decodes to gives
it back.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time
from typing import Any, TypeVar, cast

import msgspec


class VoterClaims(msgspec.Struct, frozen=True):
    """What a voter token proves: a hashed identity allowed to vote for one country."""

    contest: str
    voter: str  # hex keyed hash of the upstream identity
    country: str
    exp: int
    kind: str = "voter"


class JurorClaims(msgspec.Struct, frozen=True):
    """What a juror session token proves: a juror on the device that redeemed the code."""

    contest: str
    juror: str
    country: str
    nonce: str
    exp: int
    kind: str = "juror"


Claims = TypeVar("Claims", VoterClaims, JurorClaims)
_KIND: dict[type, str] = {VoterClaims: "voter", JurorClaims: "juror"}
_DECODERS: dict[type, Any] = {kind: msgspec.json.Decoder(kind) for kind in _KIND}
# Tokens a signer remembers it has checked. A viewer casts up to the cap with one token,
# in a burst; 16,384 entries (a few MB) hold several minutes of one process's voters.
REMEMBERED_TOKENS = 16_384


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """The bytes of a canonical base64url part; ValueError for any other spelling."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not the canonical base64url spelling")
    return data


class TokenSigner:
    """Mints and checks tokens with one secret; the secret never leaves the process."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"silkvote-token:" + secret.encode()).digest()
        self._proven = functools.lru_cache(maxsize=REMEMBERED_TOKENS)(self._prove)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, payload, "sha256")  # the one-shot C path

    def sign(self, claims: VoterClaims | JurorClaims) -> str:
        payload = msgspec.json.encode(claims)
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str, kind: type[Claims]) -> Claims | None:
        """Claims of a genuine, unexpired token of `kind`, else None (never raises).

        What a genuine token's text proves does not change, so it is remembered (the
        next vote with the token costs a lookup instead of about 5 µs of decoding and
        hashing); whether it has expired does, so that is judged on every use. Only
        genuine tokens are remembered: their size is ours, a forgery's is the sender's."""
        try:
            claims = cast("Claims", self._proven(token, kind))
        except _NotProven:
            return None
        if claims.exp < time.time():
            return None
        return claims

    def remembered(self) -> int:
        """How many tokens this signer remembers (for tests and operators)."""
        return self._proven.cache_info().currsize

    def _prove(self, token: str, kind: type[Claims]) -> Claims:
        """The claims `token` proves if it is genuine and of `kind`, whatever the time;
        else `_NotProven` (raised, so that the cache keeps no forgery)."""
        payload_part, _, mac_part = token.partition(".")
        try:
            payload = _unb64(payload_part)
            mac = _unb64(mac_part)
        except (ValueError, TypeError):
            raise _NotProven from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise _NotProven
        try:
            claims: Claims = _DECODERS[kind].decode(payload)
        except msgspec.ValidationError:
            raise _NotProven from None
        if claims.kind != _KIND[kind]:
            raise _NotProven
        return claims


class _NotProven(Exception):
    """A token that proves nothing: not genuine, or not of the kind asked for."""
