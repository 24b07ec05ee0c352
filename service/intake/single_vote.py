"""One viewer's vote, from verified claims to the ledger's answer.

Both ways a single vote arrives run this: the Litestar route (`intake/api.py`, which
also documents it) and the vote lane (`intake/lane.py`, the hot path). Keeping the rules
here, behind a function that knows nothing of either, is what lets the lane skip the
framework without skipping a rule.
"""

from __future__ import annotations

import time

from service.contests.models import Contest
from service.core import metrics
from service.intake.ledger import (
    APP_SOURCE,
    Decision,
    PendingVote,
    app_dedupe_key,
    receipt_text,
)
from service.intake.models import VoteIn, VoteOut
from service.intake.rules import entry_refusal, refuse
from service.runtime import Runtime
from service.security.credentials import network_hasher, token_hasher
from service.security.tokens import VoterClaims


async def cast_vote(rt: Runtime, cid: str, data: VoteIn, voter: VoterClaims,
                    client_host: str | None, token: str) -> tuple[int, VoteOut]:
    """(HTTP status, body) of an accepted or duplicate vote; raises `ApiError` for every
    refusal (rate limit, contest rules, window, cap, the voter's country).

    A cached contest is taken without a coroutine (`ContestCache.cached`): nearly every
    vote finds it there, and this runs once per vote."""
    limit_voter(rt, voter, client_host)
    contest = rt.contests.cached(cid) or await rt.contests.get(cid)
    decision = await rt.committer.submit(pending_vote(rt, contest, data, voter, client_host,
                                                      token))
    return answer(decision, data.entry)


def pending_vote(rt: Runtime, contest: Contest, data: VoteIn, voter: VoterClaims,
                 client_host: str | None, token: str) -> PendingVote:
    """The vote as the ledger takes it, once the contest's rules allow it; raises
    `ApiError` for a refusal this process can decide (entry, country, a shut window).

    The vote carries keyed hashes (per contest) of the client's network and of the
    token, for the integrity report; the ledger keeps neither the address nor the token.
    """
    refusal = entry_refusal(contest, voter.country, data.entry)
    if refusal is None and window_shut(contest.window, contest.opens_ts, contest.closes_ts,
                                       time.time()):
        refusal = "window_closed"  # the ledger decides; this only saves the round trip
    if refusal is not None:
        count(refusal)
        raise refuse(refusal, data.entry)
    cid = contest.id
    voter_hash = bytes.fromhex(voter.voter)
    secret = rt.settings.voter_hash_key
    return PendingVote(
        cid, app_dedupe_key(voter_hash, data.key), voter_hash, voter.country, data.entry,
        APP_SOURCE, APP_SOURCE,
        None if client_host is None else network_hasher(secret, cid)(client_host),
        token_hasher(secret, cid)(token))


def window_shut(window: str, opens_ts: float | None, closes_ts: float | None,
                now: float) -> bool:
    """Whether this process may refuse `window_closed` without asking the ledger: past
    `closes_at`, or closed while no scheduled open has come. Between `opens_at` and
    `closes_at` a cached "closed" may be a second old, so the ledger answers then."""
    if closes_ts is not None and now > closes_ts:
        return True
    if window == "open":
        return False
    return opens_ts is None or now < opens_ts


def limit_voter(rt: Runtime, voter: VoterClaims, client_host: str | None) -> None:
    """Per-IP and per-voter request rates (RATE_LIMIT_IP_PER_S, RATE_LIMIT_VOTER_PER_S)."""
    settings = rt.settings
    if settings.rate_limit_ip_per_s and client_host is not None:
        rt.limiter.enforce("ip", client_host, settings.rate_limit_ip_per_s)
    rt.limiter.enforce("voter", voter.voter, settings.rate_limit_voter_per_s)


def answer(decision: Decision, entry: str) -> tuple[int, VoteOut]:
    count(decision.outcome)
    receipt = None if decision.receipt is None else receipt_text(decision.receipt)
    if decision.outcome == "accepted":
        return 201, VoteOut(True, decision.remaining, receipt=receipt)
    if decision.outcome == "duplicate":  # a retry: the receipt stored with the vote
        return 200, VoteOut(True, decision.remaining, duplicate=True, receipt=receipt)
    raise refuse(decision.outcome, entry)


def count(outcome: str) -> None:
    metrics.votes(outcome).inc()
    metrics.votes_from(APP_SOURCE, outcome).inc()
