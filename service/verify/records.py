"""The canonical record: one line of UTF-8 text per vote or locked jury ballot.

The seal's Merkle tree hashes these lines, the ledger export writes them one per line,
and a receipt returns one. A line is the unit both sides agree on, so nothing but the
line's bytes is ever hashed: an auditor never re-encodes anything, it reads and hashes.
PostgreSQL produces the vote lines itself (`service/seal/repository.py`) and the tests
check it against `vote_line` here, which is the definition.

    v <TAB> key <TAB> voter <TAB> voting country <TAB> entry <TAB> channel <TAB>
      accepted at <TAB> void (0|1) <TAB> void reason
    b <TAB> juror country <TAB> juror id <TAB> ranking (comma separated, best first)
      <TAB> submitted at <TAB> ballot hash

`key` and `voter` are the hex of the vote's dedupe key and keyed voter hash (never the
identity itself); times are PostgreSQL's ISO output in UTC (`2026-12-01 20:59:58.5+00`,
trailing zeros of the fraction dropped). Text fields escape backslash, tab, newline and
carriage return as `\\\\`, `\\t`, `\\n`, `\\r` (and the bytes 0x01 and 0x02, which frame
the export's COPY stream, as `\\1`, `\\2`), so a line never holds a raw one of them.

Lines are ordered by (voting or juror country, kind, key): every record of one country is
one contiguous range of leaves, so a broadcaster's package proves its part of the tree
with a range proof of a few dozen hashes instead of one proof per vote.
"""

from __future__ import annotations

from typing import Literal

import msgspec

VOTE, BALLOT = "v", "b"
FIELD_SEPARATOR = "\t"
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x01": "\\1",
            "\x02": "\\2"}
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "1": "\x01", "2": "\x02"}


class RecordError(ValueError):
    """A line is not a canonical record; the message says which field."""


class VoteRecord(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    voter: str
    voting_country: str
    entry: str
    channel: str
    accepted_at: str
    void: bool = False
    void_reason: str = ""
    kind: Literal["v"] = "v"

    @property
    def minute(self) -> str:
        """`2026-12-01 20:59`: the breakdown's time bucket."""
        return self.accepted_at[:16]


class BallotRecord(msgspec.Struct, frozen=True, kw_only=True):
    country: str
    juror: str
    ranking: list[str]
    submitted_at: str
    ballot_hash: str
    kind: Literal["b"] = "b"


Record = VoteRecord | BallotRecord


def escape(text: str) -> str:
    if not any(c in text for c in _ESCAPES):
        return text
    return "".join(_ESCAPES.get(c, c) for c in text)


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, chars = [], iter(text)
    for c in chars:
        if c == "\\":
            nxt = next(chars, "")
            if nxt not in _UNESCAPES:
                raise RecordError(f"bad escape \\{nxt} in {text!r}")
            out.append(_UNESCAPES[nxt])
        else:
            out.append(c)
    return "".join(out)


def vote_line(record: VoteRecord) -> bytes:
    return FIELD_SEPARATOR.join([
        VOTE, record.key, record.voter, record.voting_country, escape(record.entry),
        escape(record.channel), record.accepted_at, "1" if record.void else "0",
        escape(record.void_reason),
    ]).encode()


def ballot_line(record: BallotRecord) -> bytes:
    return FIELD_SEPARATOR.join([
        BALLOT, record.country, escape(record.juror), ",".join(record.ranking),
        record.submitted_at, record.ballot_hash,
    ]).encode()


def encode(record: Record) -> bytes:
    return vote_line(record) if isinstance(record, VoteRecord) else ballot_line(record)


def parse(line: bytes) -> Record:
    """The record of one canonical line (no trailing newline); RecordError if malformed."""
    try:
        text = line.decode()
    except UnicodeDecodeError:
        raise RecordError("not UTF-8") from None
    fields = text.split(FIELD_SEPARATOR)
    if fields[0] == VOTE:
        if len(fields) != 9:
            raise RecordError(f"a vote has 9 fields, this line has {len(fields)}")
        if fields[7] not in ("0", "1"):
            raise RecordError(f"void flag must be 0 or 1, got {fields[7]!r}")
        return VoteRecord(key=fields[1], voter=fields[2], voting_country=fields[3],
                          entry=unescape(fields[4]), channel=unescape(fields[5]),
                          accepted_at=fields[6], void=fields[7] == "1",
                          void_reason=unescape(fields[8]))
    if fields[0] == BALLOT:
        if len(fields) != 6:
            raise RecordError(f"a ballot has 6 fields, this line has {len(fields)}")
        return BallotRecord(country=fields[1], juror=unescape(fields[2]),
                            ranking=[e for e in fields[3].split(",") if e],
                            submitted_at=fields[4], ballot_hash=fields[5])
    raise RecordError(f"a record starts with v or b, not {fields[0][:10]!r}")


def country_of(record: Record) -> str:
    return record.voting_country if isinstance(record, VoteRecord) else record.country


def sort_key(record: Record) -> tuple[bytes, str, str]:
    """The order of the leaves (the seal's SQL sorts the same way, bytewise)."""
    if isinstance(record, VoteRecord):
        return (record.voting_country.encode(), VOTE, record.key)
    return (record.country.encode(), BALLOT, record.juror)
