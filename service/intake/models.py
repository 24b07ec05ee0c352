"""Request and response bodies of the audience vote endpoints (docs/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from service.contests.models import CountryCode, Name
from service.security.text import NO_CONTROLS

IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_CONTROLS)]
VoteId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=NO_CONTROLS)]
MAX_BATCH_VOTES = 10_000


class VoteIn(msgspec.Struct, forbid_unknown_fields=True):
    entry: CountryCode
    key: IdempotencyKey


class VoteOut(msgspec.Struct, omit_defaults=True):
    accepted: bool
    remaining: int
    duplicate: bool = False
    receipt: str | None = None  # base64url, no padding; the same for every retry


class BatchVote(msgspec.Struct, forbid_unknown_fields=True):
    id: VoteId
    voter: Name
    country: CountryCode
    entry: CountryCode
    channel: Literal["sms", "call", "app"] | None = None  # default: the aggregator's name


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    votes: Annotated[list[BatchVote], msgspec.Meta(min_length=1, max_length=MAX_BATCH_VOTES)]


class Rejection(msgspec.Struct):
    id: str
    code: str


class BatchOut(msgspec.Struct):
    accepted: int
    duplicates: int
    rejected: list[Rejection]
    receipts: dict[str, str]  # vote id -> receipt, for every accepted or duplicate vote


class VoterStatus(msgspec.Struct):
    country: str
    used: int
    remaining: int
    cap: int


class DeviceTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    device: Annotated[str, msgspec.Meta(min_length=8, max_length=200, pattern=NO_CONTROLS)]
    country: CountryCode
