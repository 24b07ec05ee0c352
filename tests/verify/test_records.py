"""Canonical records: one line each, every text field escaped, parsed back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.verify.records import (
    BallotRecord,
    RecordError,
    VoteRecord,
    encode,
    parse,
)

pytestmark = pytest.mark.stores_independent
HEX = st.text("0123456789abcdef", min_size=64, max_size=64)


@given(HEX, HEX, st.text(), st.text(), st.booleans())
def test_a_vote_record_is_one_line_that_parses_back_to_itself(
        key: str, voter: str, channel: str, reason: str, void: bool) -> None:
    record = VoteRecord(key=key, voter=voter, voting_country="KZ", entry="UZ",
                        channel=channel, accepted_at="2026-12-01 20:59:58.5+00", void=void,
                        void_reason=reason)
    line = encode(record)
    assert b"\n" not in line and b"\r" not in line and b"\x01" not in line
    assert line.count(b"\t") == 8
    assert parse(line) == record


def test_a_ballot_record_keeps_its_ranking_in_order() -> None:
    record = BallotRecord(country="KZ", juror="j-kz-1a2b3c", ranking=["UZ", "CN", "MN"],
                          submitted_at="2026-12-01 19:00:00+00", ballot_hash="ab" * 32)
    assert encode(record).startswith(b"b\tKZ\tj-kz-1a2b3c\tUZ,CN,MN\t")
    assert parse(encode(record)) == record


@pytest.mark.parametrize("line", [b"x\t1", b"v\ta\tb", b"v" + b"\t0" * 7 + b"\t2\t",
                                  b"b\tKZ", b"\xff\xfe", b"v\t" + b"\\q\t" * 8])
def test_a_malformed_line_is_refused_saying_why(line: bytes) -> None:
    with pytest.raises(RecordError):
        parse(line)
