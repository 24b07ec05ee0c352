"""Request and response bodies of the audience vote endpoints (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.contests.models import CountryCode

IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
VoteId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
MAX_BATCH_VOTES = 10_000


class VoteIn(msgspec.Struct, forbid_unknown_fields=True):
    entry: CountryCode
    key: IdempotencyKey


class VoteOut(msgspec.Struct, omit_defaults=True):
    accepted: bool
    remaining: int
    duplicate: bool = False


class BatchVote(msgspec.Struct, forbid_unknown_fields=True):
    id: VoteId
    voter: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    country: CountryCode
    entry: CountryCode


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    votes: Annotated[list[BatchVote], msgspec.Meta(min_length=1, max_length=MAX_BATCH_VOTES)]


class Rejection(msgspec.Struct):
    id: str
    code: str


class BatchOut(msgspec.Struct):
    accepted: int
    duplicates: int
    rejected: list[Rejection]


class VoterStatus(msgspec.Struct):
    country: str
    used: int
    remaining: int
    cap: int


class DeviceTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    device: Annotated[str, msgspec.Meta(min_length=8, max_length=200)]
    country: CountryCode
