"""Request and response bodies of contest administration (contract: docs/api.md)."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

import msgspec

from scoring import Rules

CountryCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2, or WW")
]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]


class EntryIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    country: CountryCode
    running_order: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    artist: ShortText = ""
    song: ShortText = ""


class ContestIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A contest definition; `rules` is the scoring library's own model (one definition)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    entries: Annotated[list[EntryIn], msgspec.Meta(min_length=1, max_length=100)]
    voting_countries: Annotated[list[CountryCode], msgspec.Meta(max_length=100)]
    rules: Rules = msgspec.field(default_factory=Rules)
    vote_cap: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    jury_size: Annotated[int, msgspec.Meta(ge=0, le=50)] = 5
    jury_min_valid: Annotated[int, msgspec.Meta(ge=0, le=50)] = 3
    id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")] | None = None


class Contest(msgspec.Struct, kw_only=True, dict=True):
    """A stored contest as the API shows it: the definition plus its live state."""

    id: str
    name: str
    entries: list[EntryIn]
    voting_countries: list[str]
    rules: Rules
    vote_cap: int
    jury_size: int
    jury_min_valid: int
    window: Literal["open", "closed"]
    jury_locked: bool
    revealed: int

    @functools.cached_property
    def entry_set(self) -> frozenset[str]:
        """Entry countries, computed once per cached contest (checked on every vote)."""
        return frozenset(e.country for e in self.entries)

    def entry_countries(self) -> frozenset[str]:
        return self.entry_set


class CreatedId(msgspec.Struct):
    id: str


class WindowIn(msgspec.Struct, forbid_unknown_fields=True):
    state: Literal["open", "closed"]


class WindowOut(msgspec.Struct):
    window: Literal["open", "closed"]


class VoterTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    voter: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    country: CountryCode


class VoterTokenOut(msgspec.Struct):
    token: str
    expires_in: int


class AggregatorKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AggregatorKeyOut(msgspec.Struct):
    key: str
    id: str


class JurorIn(msgspec.Struct, forbid_unknown_fields=True):
    country: CountryCode
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class JurorOut(msgspec.Struct):
    juror_id: str
    code: str


class ContestSummary(msgspec.Struct):
    id: str
    name: str
    window: str
