"""Voter tokens: a contest's credential for one viewer, minted by the app backend (or
by the demo page's self-service route) and checked on every vote without a database
round trip.

The self-service route is the one place a stranger can mint credentials, and each
token is a fresh voter with a full cap: 150 tokens from one client in 0.1 s were five
times the cap on one entry in seconds. So it is limited per client *network* (the /24 of
an IPv4 address, the /48 of an IPv6 one, as the ledger groups votes), not per address:
an attacker holds a whole prefix far more easily than many prefixes. The limit is per
contest (as tokens are), in a fixed minute window (`DEVICE_TOKENS_PER_NETWORK_PER_MIN`,
default 20), counted as the other rate limits are (`security/ratelimit.py`), and a
refusal says when the window ends (`Retry-After`).
"""

from __future__ import annotations

import math
import time

from service.contests.models import VoterTokenOut
from service.core import metrics
from service.core.errors import ApiError
from service.runtime import Runtime
from service.security.credentials import network_prefix, voter_hash
from service.security.ratelimit import rate_key
from service.security.tokens import VoterClaims

MINT_WINDOW_S = 60


def issue_voter_token(rt: Runtime, contest_id: str, voter: str, country: str) -> VoterTokenOut:
    """Sign a token carrying only the keyed hash of the voter's upstream identity."""
    ttl = rt.settings.voter_token_ttl_s
    claims = VoterClaims(
        contest=contest_id,
        voter=voter_hash(rt.settings.voter_hash_key, contest_id, voter).hex(),
        country=country,
        exp=int(time.time()) + ttl,
    )
    return VoterTokenOut(token=rt.signer.sign(claims), expires_in=ttl)


def limit_device_tokens(rt: Runtime, contest_id: str, client_host: str | None) -> None:
    """429 `rate_limited` with `Retry-After` once the client's network has minted its
    tokens of this minute for this contest."""
    limit = rt.settings.device_tokens_per_network_per_min
    if not limit or client_host is None:
        return
    network = network_prefix(client_host) or client_host
    hits = rt.limiter.hit(rate_key("mint", f"{contest_id}:{network}", MINT_WINDOW_S), MINT_WINDOW_S)
    if hits > limit:
        metrics.rate_limited("device_token_network").inc()
        retry_after = max(1, math.ceil(MINT_WINDOW_S - time.time() % MINT_WINDOW_S))
        raise ApiError(429, "rate_limited",
                       f"too many voter tokens from your network; at most {limit} a minute",
                       retry_after_s=retry_after)
