"""The seal statement: readable signed bytes, an Ed25519 signature, a short fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from service.seal.keys import SealKeys
from service.verify.statement import Seal, SealStatement, fingerprint, signature_holds

pytestmark = pytest.mark.stores_independent


def sealed(keys: SealKeys, contest: str = "final") -> Seal:
    statement = SealStatement(contest=contest, records=3, votes=2, ballots=1,
                              root="ab" * 32, result="cd" * 32,
                              sealed_at=datetime(2026, 12, 1, 21, 0, tzinfo=UTC))
    return Seal(statement=statement, fingerprint=fingerprint("ab" * 32),
                public_key=keys.public_key(contest).hex(),
                signature=keys.sign(contest, statement.signed_bytes()).hex())


def test_each_contest_has_its_own_key_from_one_secret() -> None:
    keys = SealKeys("secret")
    assert keys.public_key("a") == SealKeys("secret").public_key("a")
    assert keys.public_key("a") != keys.public_key("b")
    assert keys.public_key("a") != SealKeys("other").public_key("a")


def test_a_signature_holds_for_its_statement_only() -> None:
    seal = sealed(SealKeys("secret"))
    assert signature_holds(seal)
    again = msgspec.json.decode(msgspec.json.encode(seal), type=Seal)
    assert signature_holds(again)  # what seal.json round-trips through
    forged = msgspec.structs.replace(
        seal, statement=msgspec.structs.replace(seal.statement, votes=3))
    assert not signature_holds(forged)
    other_key = msgspec.structs.replace(
        seal, public_key=SealKeys("other").public_key("final").hex())
    assert not signature_holds(other_key)


def test_the_statement_is_text_an_observer_can_read() -> None:
    text = sealed(SealKeys("s")).statement.signed_bytes().decode()
    assert text.splitlines()[:3] == ["silkvote-seal/1", "contest final", "records 3"]
    assert "sealed_at 2026-12-01T21:00:00+00:00" in text


def test_the_fingerprint_is_the_roots_first_eight_bytes_in_four_groups() -> None:
    assert fingerprint("3f2a91c077de0b15" + "0" * 48) == "3f2a-91c0-77de-0b15"
