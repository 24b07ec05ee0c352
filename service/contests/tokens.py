"""Voter tokens: a contest's credential for one viewer, minted by the app backend (or
by the demo page's self-service route) and checked on every vote without a database
round trip."""

from __future__ import annotations

import time

from service.contests.models import VoterTokenOut
from service.runtime import Runtime
from service.security.credentials import voter_hash
from service.security.tokens import VoterClaims


def issue_voter_token(rt: Runtime, contest_id: str, voter: str, country: str) -> VoterTokenOut:
    """Sign a token carrying only the keyed hash of the voter's upstream identity."""
    ttl = rt.settings.voter_token_ttl_s
    claims = VoterClaims(
        contest=contest_id,
        voter=voter_hash(rt.settings.voter_hash_key, voter).hex(),
        country=country,
        exp=int(time.time()) + ttl,
    )
    return VoterTokenOut(token=rt.signer.sign(claims), expires_in=ttl)
