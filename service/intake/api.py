"""Audience vote endpoints: single votes from viewers, batches from aggregators."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from service.contests.api import check_voting_country, issue_voter_token
from service.contests.models import Contest, VoterTokenOut
from service.core import metrics
from service.core.errors import ApiError, forbidden, unauthorized, unavailable
from service.intake.committer import GroupCommitter, publish_accepted
from service.intake.ledger import (
    APP_SOURCE,
    Decision,
    PendingVote,
    aggregator_dedupe_key,
    app_dedupe_key,
    record_votes,
    voter_votes_used,
)
from service.intake.models import (
    BatchIn,
    BatchOut,
    BatchVote,
    DeviceTokenIn,
    Rejection,
    VoteIn,
    VoteOut,
    VoterStatus,
)
from service.runtime import Runtime
from service.security.auth import contest_claims, hash_secret, require_bearer, voter_hasher
from service.security.tokens import VoterClaims

COMMITTER = "intake.committer"
_REFUSALS: dict[str, tuple[int, str]] = {
    "window_closed": (409, "voting is closed for this contest"),
    "vote_cap_reached": (429, "this voter has used every vote allowed"),
    "not_found": (404, "contest not found"),
}


def committer_factory(rt: Runtime) -> GroupCommitter:
    committer = GroupCommitter(rt.pool, rt.redis, window_ms=rt.settings.commit_window_ms,
                               max_batch=rt.settings.commit_max_batch,
                               timeout_s=rt.settings.db_timeout_s)
    rt.extras[COMMITTER] = committer
    return committer


def voter_claims(request: Request[Any, Any, Any], rt: Runtime, contest_id: str) -> VoterClaims:
    """The verified claims of the request's voter token, bound to this contest."""
    return contest_claims(request, rt.signer, VoterClaims, contest_id, "voter token")


async def limit_voter(request: Request[Any, Any, Any], rt: Runtime, claims: VoterClaims) -> None:
    """Per-IP and per-voter request rates (RATE_LIMIT_IP_PER_S, RATE_LIMIT_VOTER_PER_S)."""
    settings = rt.settings
    if settings.rate_limit_ip_per_s and request.client is not None:
        await rt.limiter.enforce("ip", request.client.host, settings.rate_limit_ip_per_s)
    await rt.limiter.enforce("voter", claims.voter, settings.rate_limit_voter_per_s)


def entry_refusal(contest: Contest, country: str, entry: str) -> str | None:
    """The rule a vote for `entry` from `country` breaks before it reaches the ledger."""
    if entry not in contest.entry_countries():
        return "unknown_entry"
    if entry == country:
        return "own_country"
    if country not in contest.voting_countries:
        return "unknown_country"
    return None


def refuse(code: str, entry: str) -> ApiError:
    if code in _REFUSALS:
        status, message = _REFUSALS[code]
        return ApiError(status, code, message)
    messages = {
        "unknown_entry": f"{entry} has no entry in this contest",
        "own_country": "a country cannot vote for its own entry",
        "unknown_country": "the token's country does not vote in this contest",
    }
    return ApiError(422, code, messages.get(code, code))


class VoteController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["audience votes"]

    @post("/votes", status_code=HTTP_201_CREATED,
          summary="Cast one audience vote (voter token); 201 only once it is in the ledger")
    async def vote(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                   data: VoteIn) -> Response[VoteOut]:
        claims = voter_claims(request, rt, cid)
        await limit_voter(request, rt, claims)
        contest = await rt.contests.get(cid)
        refusal = entry_refusal(contest, claims.country, data.entry)
        if refusal is None and contest.window == "closed":
            refusal = "window_closed"
        if refusal is not None:
            metrics.votes(refusal).inc()
            raise refuse(refusal, data.entry)
        voter = bytes.fromhex(claims.voter)
        pending = PendingVote(cid, app_dedupe_key(voter, data.key), voter, claims.country,
                              data.entry, APP_SOURCE)
        committer: GroupCommitter = rt.extras[COMMITTER]
        decision = await committer.submit(pending)
        return vote_response(decision, data.entry)

    @get("/votes/me", summary="How many votes the token's voter has used and has left")
    async def me(self, request: Request[Any, Any, Any], rt: Runtime, cid: str) -> VoterStatus:
        claims = voter_claims(request, rt, cid)
        contest = await rt.contests.get(cid)
        async with rt.pool.acquire() as conn:
            used = await voter_votes_used(conn, cid, bytes.fromhex(claims.voter))
        return VoterStatus(claims.country, used, max(contest.vote_cap - used, 0), contest.vote_cap)

    @post("/votes/batch", status_code=HTTP_200_OK,
          summary="Forward a batch of votes (aggregator key); re-sent ids count once")
    async def batch(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                    data: BatchIn) -> BatchOut:
        aggregator_id = await aggregator_for(request, rt, cid)
        contest = await rt.contests.get(cid)
        valid, rejected = split_batch(rt, contest, aggregator_id, data.votes)
        decisions: list[Decision] = []
        if valid:
            decisions = await record_batch(rt, cid, [p for _, p in valid])
        if decisions and all(d.outcome == "window_closed" for d in decisions):
            raise refuse("window_closed", "")
        accepted = [(p, d) for (_, p), d in zip(valid, decisions, strict=True)]
        await publish_accepted(rt.redis, accepted)
        return tally_batch(valid, decisions, rejected)

    @post("/device-token", status_code=HTTP_201_CREATED,
          summary="Self-service voter token for a device (demo mode: SELF_SERVICE_TOKENS)")
    async def device_token(self, rt: Runtime, cid: str, data: DeviceTokenIn) -> VoterTokenOut:
        if not rt.settings.self_service_tokens:
            raise forbidden("self-service voter tokens are disabled; tokens come from the app")
        contest = await rt.contests.get(cid)
        check_voting_country(contest, data.country)
        return issue_voter_token(rt, cid, f"device:{data.device}", data.country)


async def record_batch(rt: Runtime, contest_id: str, votes: list[PendingVote]) -> list[Decision]:
    """One ledger transaction for an aggregator's batch; 503 if the ledger is unreachable."""
    try:
        async with rt.pool.acquire(timeout=rt.settings.db_timeout_s) as conn:
            return await record_votes(conn, contest_id, votes, rt.settings.db_timeout_s * 4)
    except Exception as exc:  # nothing or everything was committed; a re-send dedupes
        metrics.LEDGER_FAILURES.inc()
        raise unavailable() from exc


def vote_response(decision: Decision, entry: str) -> Response[VoteOut]:
    metrics.votes(decision.outcome).inc()
    if decision.outcome == "accepted":
        return Response(VoteOut(True, decision.remaining), status_code=201)
    if decision.outcome == "duplicate":
        return Response(VoteOut(True, decision.remaining, duplicate=True), status_code=200)
    raise refuse(decision.outcome, entry)


_AGGREGATORS: dict[bytes, tuple[float, str, str]] = {}
AGGREGATOR_CACHE_S = 30.0


async def aggregator_for(request: Request[Any, Any, Any], rt: Runtime, contest_id: str) -> str:
    """The id of the aggregator whose key the request carries; keys are contest-scoped."""
    key_hash = hash_secret(require_bearer(request))
    cached = _AGGREGATORS.get(key_hash)
    if cached is None or time.monotonic() - cached[0] > AGGREGATOR_CACHE_S:
        async with rt.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT id, contest_id FROM aggregator_keys "
                "WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
        if row is None:
            raise unauthorized("unknown or revoked aggregator key")
        cached = (time.monotonic(), row["id"], row["contest_id"])
        _AGGREGATORS[key_hash] = cached
    if cached[2] != contest_id:
        raise forbidden("this aggregator key belongs to another contest")
    return cached[1]


def split_batch(rt: Runtime, contest: Contest, aggregator_id: str, votes: list[BatchVote]
                ) -> tuple[list[tuple[str, PendingVote]], list[Rejection]]:
    """Votes that may go to the ledger (with their ids) and those refused by contest rules."""
    valid: list[tuple[str, PendingVote]] = []
    rejected: list[Rejection] = []
    hash_voter = voter_hasher(rt.settings.voter_hash_key)
    for vote in votes:
        refusal = entry_refusal(contest, vote.country, vote.entry)
        if refusal is not None:
            rejected.append(Rejection(vote.id, refusal))
            continue
        pending = PendingVote(contest.id, aggregator_dedupe_key(aggregator_id, vote.id),
                              hash_voter(vote.voter), vote.country, vote.entry,
                              aggregator_id)
        valid.append((vote.id, pending))
    return valid, rejected


def tally_batch(valid: list[tuple[str, PendingVote]], decisions: list[Decision],
                rejected: list[Rejection]) -> BatchOut:
    outcomes: Counter[str] = Counter(rejection.code for rejection in rejected)
    for (vote_id, _), decision in zip(valid, decisions, strict=True):
        outcome = decision.outcome
        outcomes[outcome] += 1
        if outcome not in ("accepted", "duplicate"):
            rejected.append(Rejection(vote_id, outcome))
    for code, count in outcomes.items():
        metrics.votes(code).inc(count)
    return BatchOut(outcomes["accepted"], outcomes["duplicate"], rejected)
