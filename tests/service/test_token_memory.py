"""A voter casts up to the cap with one token, so the signer remembers what a token's
text proves (`TokenSigner.verify`): the next vote with it costs a lookup, not two base64
decodes, an HMAC and a JSON decode. What it remembers never outlives what it proves:
expiry is judged on every use, and any other text is verified on its own.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.security import tokens
from service.security.tokens import JurorClaims, TokenSigner, VoterClaims

pytestmark = pytest.mark.stores_independent  # pure: run once, in the embedded pass


def _voter_token(signer: TokenSigner, exp: int) -> str:
    return signer.sign(VoterClaims(contest="c", voter="ab" * 32, country="KZ", exp=exp))


def test_a_voter_s_next_votes_with_the_same_token_are_not_verified_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner("memory-secret")
    token = _voter_token(signer, int(time.time()) + 3600)
    macs: list[bytes] = []
    real_mac = signer._mac
    monkeypatch.setattr(signer, "_mac", lambda payload: macs.append(payload) or real_mac(payload))
    claims = [signer.verify(token, VoterClaims) for _ in range(20)]
    assert all(c is not None and c.voter == "ab" * 32 for c in claims)
    assert len(macs) == 1


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner("memory-secret")
    now = time.time()
    token = _voter_token(signer, int(now) + 60)
    assert signer.verify(token, VoterClaims) is not None
    monkeypatch.setattr(tokens.time, "time", lambda: now + 61)
    assert signer.verify(token, VoterClaims) is None


def test_a_remembered_voter_token_is_still_no_juror_token() -> None:
    signer = TokenSigner("memory-secret")
    token = _voter_token(signer, int(time.time()) + 3600)
    assert signer.verify(token, VoterClaims) is not None
    assert signer.verify(token, JurorClaims) is None


def test_another_signer_does_not_share_what_one_remembers() -> None:
    token = _voter_token(TokenSigner("memory-secret"), int(time.time()) + 3600)
    assert TokenSigner("memory-secret").verify(token, VoterClaims) is not None
    assert TokenSigner("rotated-secret").verify(token, VoterClaims) is None


@given(position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_any_other_text_than_a_remembered_token_is_verified_on_its_own(
        position: int, replacement: str) -> None:
    signer = TokenSigner("memory-secret")
    token = _voter_token(signer, int(time.time()) + 3600)
    assert signer.verify(token, VoterClaims) is not None
    at = position % len(token)
    changed = token[:at] + replacement + token[at + 1:]
    if changed != token:
        assert signer.verify(changed, VoterClaims) is None


def test_a_forgery_is_not_remembered() -> None:
    signer = TokenSigner("memory-secret")
    genuine = _voter_token(signer, int(time.time()) + 3600)
    forged = _voter_token(TokenSigner("guessed-secret"), int(time.time()) + 3600)
    assert signer.verify(genuine, VoterClaims) is not None
    for _ in range(3):
        assert signer.verify(forged, VoterClaims) is None
    assert signer.remembered() == 1
