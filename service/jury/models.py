"""Request and response bodies of the jury endpoints (docs/api.md, "Jury")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from service.contests.models import CountryCode
from service.security.text import NO_CONTROLS


class SessionIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=NO_CONTROLS)]


class SessionOut(msgspec.Struct):
    token: str
    juror_id: str
    country: str
    contest: str


class BallotIn(msgspec.Struct, forbid_unknown_fields=True):
    ranking: Annotated[list[CountryCode], msgspec.Meta(max_length=100)]


class BallotOut(msgspec.Struct):
    ranking: list[str]
    submitted_at: datetime
    ballot_hash: str


class LockOut(msgspec.Struct):
    locked_at: datetime


class JurorStatus(msgspec.Struct):
    juror_id: str
    country: str
    name: str
    code_used: bool
    ballot_at: datetime | None


class CodeOut(msgspec.Struct):
    juror_id: str
    code: str
    sign_in_url: str = ""
    qr_svg: str = ""
