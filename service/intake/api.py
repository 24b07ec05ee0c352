"""Audience vote endpoints: single votes from viewers, batches from aggregators.

The single-vote route is the hot path: it takes one dependency (`rt`) plus the voter's
claims, which depend on it. Litestar resolves sibling dependencies of one level in a
task group, so each further dependency beside `rt` would cost every vote a task group.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from service.apidocs.routes import documented
from service.contests.models import Contest, VoterTokenOut
from service.contests.rules import check_voting_country
from service.contests.tokens import issue_voter_token, limit_device_tokens
from service.core import metrics
from service.core.errors import forbidden, unauthorized, unavailable
from service.intake.aggregators import Aggregator
from service.intake.ledger import (
    Decision,
    PendingVote,
    aggregator_dedupe_key,
    receipt_text,
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
from service.intake.rules import entry_refusal, refuse
from service.intake.single_vote import cast_vote
from service.runtime import Runtime
from service.security.credentials import hash_secret, voter_hasher
from service.security.guards import contest_claims, require_bearer
from service.security.tokens import VoterClaims


def voter_claims(request: Request[Any, Any, Any], rt: Runtime, cid: str) -> VoterClaims:
    """The verified claims of the request's voter token, bound to this contest."""
    return contest_claims(request, rt.signer, VoterClaims, cid, "voter token")


REVOKED_KEY = "unknown or revoked aggregator key"


async def aggregator_of(request: Request[Any, Any, Any], rt: Runtime, cid: str) -> Aggregator:
    """The aggregator whose key the request carries; keys are contest-scoped."""
    found = await rt.aggregators.identify(hash_secret(require_bearer(request)))
    if found is None:
        raise unauthorized(REVOKED_KEY)
    if found.contest != cid:
        raise forbidden("this aggregator key belongs to another contest")
    return found


class VoteController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["audience votes"]

    @documented("castVote", {
        404: ["not_found"], 409: ["window_closed", "country_mismatch", "entry_disqualified"],
        429: ["rate_limited", "vote_cap_reached"],
        422: ["unknown_entry", "own_country", "unknown_country"]})
    @post("/votes", status_code=HTTP_201_CREATED,
          responses={200: ResponseSpec(VoteOut, description="A retry of a vote already "
                                       "counted (same `key`): `duplicate` is true")},
          dependencies={"voter": Provide(voter_claims, sync_to_thread=False)},
          summary="Cast one audience vote (voter token); 201 only once it is in the ledger")
    async def vote(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                   data: VoteIn, voter: VoterClaims) -> Response[VoteOut]:
        # the vote lane (intake/lane.py) answers this route unless VOTE_LANE=false
        client = request.client
        status, out = await cast_vote(rt, cid, data, voter, client.host if client else None,
                                      require_bearer(request))
        return Response(out, status_code=status)

    @documented("getMyVotes", {404: ["not_found"]})
    @get("/votes/me", dependencies={"voter": Provide(voter_claims, sync_to_thread=False)},
         summary="How many votes the token's voter has used and has left")
    async def me(self, rt: Runtime, cid: str, voter: VoterClaims) -> VoterStatus:
        contest = await rt.contests.get(cid)
        used = await rt.ledger.votes_used(cid, bytes.fromhex(voter.voter))
        return VoterStatus(voter.country, used, max(contest.vote_cap - used, 0),
                           contest.vote_cap)

    @documented("castVoteBatch", {404: ["not_found"], 409: ["window_closed"]})
    @post("/votes/batch", status_code=HTTP_200_OK,
          dependencies={"aggregator": Provide(aggregator_of)},
          summary="Forward a batch of votes (aggregator key); re-sent ids count once")
    async def batch(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                    data: BatchIn, aggregator: Aggregator) -> BatchOut:
        contest = await rt.contests.get(cid)
        valid, rejected = split_batch(rt, contest, aggregator, data.votes)
        decisions: list[Decision] = []
        if valid:
            decisions = await record_batch(rt, cid, [p for _, p in valid], aggregator.id)
        if decisions and decisions[0].outcome == "key_revoked":  # revoked in any process
            rt.aggregators.forget(hash_secret(require_bearer(request)))
            raise unauthorized(REVOKED_KEY)
        if decisions and all(d.outcome == "window_closed" for d in decisions):
            raise refuse("window_closed", "")
        accepted = [(p, d) for (_, p), d in zip(valid, decisions, strict=True)]
        await rt.committer.publish(accepted)  # never held up by a slow Redis
        return tally_batch(valid, decisions, rejected)

    @documented("issueDeviceToken", {403: ["forbidden"], 404: ["not_found"],
                                     422: ["unknown_country"], 429: ["rate_limited"]})
    @post("/device-token", status_code=HTTP_201_CREATED,
          summary="Self-service voter token for a device (demo mode: SELF_SERVICE_TOKENS)")
    async def device_token(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                           data: DeviceTokenIn) -> VoterTokenOut:
        if not rt.settings.self_service_tokens:
            raise forbidden("self-service voter tokens are disabled; tokens come from the app")
        limit_device_tokens(rt, cid, request.client.host if request.client else None)
        contest = await rt.contests.get(cid)
        check_voting_country(contest, data.country)
        return issue_voter_token(rt, cid, f"device:{data.device}", data.country)


async def record_batch(rt: Runtime, contest_id: str, votes: list[PendingVote],
                       aggregator: str) -> list[Decision]:
    """One ledger transaction for an aggregator's batch; 503 if the ledger is unreachable."""
    try:
        return await rt.ledger.record(contest_id, votes, rt.settings.db_timeout_s * 4,
                                      aggregator)
    except Exception as exc:  # nothing or everything was committed; a re-send dedupes
        metrics.LEDGER_FAILURES.inc()
        raise unavailable() from exc


def split_batch(rt: Runtime, contest: Contest, aggregator: Aggregator, votes: list[BatchVote]
                ) -> tuple[list[tuple[str, PendingVote]], list[Rejection]]:
    """Votes that may go to the ledger (with their ids) and those refused by contest rules.

    A vote's channel is the one it names (`sms`, `call`, `app`), else the aggregator's
    name; its voter is hashed with the contest's key, as app tokens are."""
    valid: list[tuple[str, PendingVote]] = []
    rejected: list[Rejection] = []
    hash_voter = voter_hasher(rt.settings.voter_hash_key, contest.id)
    for vote in votes:
        refusal = entry_refusal(contest, vote.country, vote.entry)
        if refusal is not None:
            rejected.append(Rejection(vote.id, refusal))
            continue
        pending = PendingVote(contest.id, aggregator_dedupe_key(aggregator.id, vote.id),
                              hash_voter(vote.voter), vote.country, vote.entry, aggregator.id,
                              vote.channel or aggregator.name)
        valid.append((vote.id, pending))
    return valid, rejected


def tally_batch(valid: list[tuple[str, PendingVote]], decisions: list[Decision],
                rejected: list[Rejection]) -> BatchOut:
    outcomes: Counter[str] = Counter(rejection.code for rejection in rejected)
    receipts: dict[str, str] = {}
    for (vote_id, _), decision in zip(valid, decisions, strict=True):
        outcome = decision.outcome
        outcomes[outcome] += 1
        if outcome not in ("accepted", "duplicate"):
            rejected.append(Rejection(vote_id, outcome))
        elif decision.receipt is not None:
            receipts[vote_id] = receipt_text(decision.receipt)
    for code, count in outcomes.items():
        metrics.votes(code).inc(count)
        metrics.votes_from("aggregator", code).inc(count)
    return BatchOut(outcomes["accepted"], outcomes["duplicate"], rejected, receipts)
