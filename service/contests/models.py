"""Request and response bodies of contest administration (contract: docs/api.md)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from scoring import Rules
from service.security.text import CONTEST_ID, COUNTRY_CODE, NO_CONTROLS

CountryCode = Annotated[
    str, msgspec.Meta(pattern=COUNTRY_CODE, description="ISO 3166 alpha-2, or WW")
]
ShortText = Annotated[str, msgspec.Meta(max_length=200, pattern=NO_CONTROLS)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROLS)]
Instant = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with an offset")]
# Who sees standings and counts before the broadcast shows them (docs/api.md): `live`
# while voting, `after_close` once the window closes, `reveal` only as announced.
Visibility = Literal["live", "after_close", "reveal"]


class EntryIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    country: CountryCode
    running_order: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    artist: ShortText = ""
    song: ShortText = ""


class ContestIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A contest definition; `rules` is the scoring library's own model (one definition)."""

    name: Name
    entries: Annotated[list[EntryIn], msgspec.Meta(min_length=1, max_length=100)]
    voting_countries: Annotated[list[CountryCode], msgspec.Meta(max_length=100)]
    rules: Rules = msgspec.field(default_factory=Rules)
    vote_cap: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    jury_size: Annotated[int, msgspec.Meta(ge=0, le=50)] = 5
    jury_min_valid: Annotated[int, msgspec.Meta(ge=0, le=50)] = 3
    id: Annotated[str, msgspec.Meta(pattern=CONTEST_ID)] | None = None
    opens_at: Instant | None = None  # the scheduled window; the ledger refuses any vote
    closes_at: Instant | None = None  # after closes_at, whatever the window state says
    results_visibility: Visibility = "after_close"


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
    results_visibility: Visibility = "after_close"
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    seal_public_key: str = ""  # Ed25519, hex: the key the ledger's seal is signed with
    #: The producer's hide-scores mode: the overlay shows the order, not the numbers.
    hide_scores: bool = False
    #: Entries disqualified by the producer: still listed, their votes count for no one
    #: (scoring/disqualify.py). Carried in the seal package's contest.json, so the
    #: offline audit re-scores the contest the same way.
    disqualified: list[str] = msgspec.field(default_factory=list)

    @functools.cached_property
    def closes_ts(self) -> float | None:
        """`closes_at` as a Unix time, computed once per cached contest (checked on
        every vote before it is queued; the ledger decides)."""
        return None if self.closes_at is None else self.closes_at.timestamp()

    @functools.cached_property
    def opens_ts(self) -> float | None:
        """`opens_at` as a Unix time: once it has passed, a vote is sent to the ledger
        even if this cached copy still says closed (the scheduler may have just opened)."""
        return None if self.opens_at is None else self.opens_at.timestamp()

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


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The scheduled window; null (or absent) clears that side of it."""

    opens_at: Instant | None = None
    closes_at: Instant | None = None


class ScheduleOut(msgspec.Struct):
    opens_at: datetime | None
    closes_at: datetime | None


class VisibilityIn(msgspec.Struct, forbid_unknown_fields=True):
    results_visibility: Visibility


class VisibilityOut(msgspec.Struct):
    results_visibility: Visibility


class DisplayIn(msgspec.Struct, forbid_unknown_fields=True):
    hide_scores: bool


class DisplayOut(msgspec.Struct):
    hide_scores: bool


class VoterTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    voter: Name
    country: CountryCode


class VoterTokenOut(msgspec.Struct):
    token: str
    expires_in: int


class AggregatorKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class AggregatorKeyOut(msgspec.Struct):
    key: str
    id: str


class AggregatorKeyRevoked(msgspec.Struct):
    id: str
    revoked_at: datetime


class ReadTokenIn(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=200,
                                       pattern=NO_CONTROLS)] = "graphics"


class ReadTokenOut(msgspec.Struct):
    id: str
    token: str  # shown once; only its hash is stored
    label: str


class ReadTokenInfo(msgspec.Struct):
    id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


class JurorIn(msgspec.Struct, forbid_unknown_fields=True):
    country: CountryCode
    name: Name


class JurorOut(msgspec.Struct):
    """The code is shown once (only its hash is kept): print the card now."""

    juror_id: str
    code: str
    sign_in_url: str = ""  # the jury page with the code in its fragment (#code=…)
    qr_svg: str = ""  # an SVG QR code of sign_in_url, for the printed card


class ContestSummary(msgspec.Struct):
    id: str
    name: str
    window: str


class EntryChangeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A rename: the fields given replace the entry's (the others stay)."""

    artist: ShortText | None = None
    song: ShortText | None = None


class RunningOrderIn(msgspec.Struct, forbid_unknown_fields=True):
    """The contest's entry countries in their new performing order (each exactly once)."""

    order: Annotated[list[CountryCode], msgspec.Meta(min_length=1, max_length=100)]


class DisqualifyIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=NO_CONTROLS)]
