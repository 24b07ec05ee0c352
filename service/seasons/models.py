"""Request and response bodies of seasons (contract: docs/api.md, "Seasons")."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.contests.models import CountryCode, Name
from service.security.text import CONTEST_ID

ContestId = Annotated[str, msgspec.Meta(pattern=CONTEST_ID)]


class AdvanceRule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Exactly one of: `qualify` (the top N of each of the round's contests go on) or
    `leave` (the bottom K of each contest leave, everyone else goes on)."""

    qualify: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    leave: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None


class RoundIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    #: Only the first round names contests; `advance` creates the later rounds' contest.
    contests: Annotated[list[ContestId], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list)
    #: How entries go on to the next round; none on the last round.
    advance: AdvanceRule | None = None


class SeasonIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    rounds: Annotated[list[RoundIn], msgspec.Meta(min_length=2, max_length=30)]
    id: ContestId | None = None


class Round(msgspec.Struct, kw_only=True):
    name: str
    contests: list[str]
    advance: AdvanceRule | None = None


class Season(msgspec.Struct, kw_only=True):
    id: str
    name: str
    rounds: list[Round]
    #: The index of the round being played: the last one that has contests.
    current: int = 0


class AdvanceIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The next round's contest; every field is optional. `running_order` lists the
    entries going on in their performing order (the producer's draw); without it they
    keep their relative order: the round's contests in order, each in its running order."""

    running_order: Annotated[list[CountryCode], msgspec.Meta(max_length=100)] | None = None
    id: ContestId | None = None
    name: Name | None = None
    #: Default: every voting country of the round's contests, in first-seen order.
    voting_countries: Annotated[list[CountryCode], msgspec.Meta(max_length=100)] | None = None


class AdvanceOut(msgspec.Struct, kw_only=True):
    contest_id: str
    #: The entries that go on, in the new contest's running order.
    going_on: list[str]
    #: The entries that do not (each contest's, in scoreboard order).
    out: list[str]
    season: Season
