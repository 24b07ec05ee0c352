"""Contest administration endpoints (docs/api.md, "Contest set-up")."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from service.apidocs.routes import documented
from service.contests.models import (
    AggregatorKeyIn,
    AggregatorKeyOut,
    AggregatorKeyRevoked,
    Contest,
    ContestIn,
    ContestSummary,
    CreatedId,
    DisplayIn,
    DisplayOut,
    ReadTokenIn,
    ReadTokenInfo,
    ReadTokenOut,
    ScheduleIn,
    ScheduleOut,
    VisibilityIn,
    VisibilityOut,
    VoterTokenIn,
    VoterTokenOut,
    WindowIn,
    WindowOut,
)
from service.contests.repository import RevealStarted
from service.contests.rules import check_definition, check_voting_country
from service.contests.tokens import issue_voter_token
from service.core.errors import ApiError, not_found
from service.runtime import Runtime
from service.security.credentials import hash_secret, new_secret
from service.security.guards import admin_only


class ContestController(Controller):
    path = "/api/v1/contests"
    tags = ["contests"]

    @documented("createContest", {409: ["contest_exists"], 422: [
        "invalid_rules", "duplicate_entry", "duplicate_running_order",
        "duplicate_voting_country", "invalid_jury_size", "invalid_window"]})
    @post("/", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Create a contest (admin)")
    async def create(self, rt: Runtime, data: ContestIn) -> CreatedId:
        check_definition(data)
        contest_id = await rt.contest_store.create(data, data.vote_cap or rt.settings.vote_cap)
        if contest_id is None:
            raise ApiError(409, "contest_exists", f"contest {data.id!r} already exists")
        return CreatedId(contest_id)

    @documented("listContests")
    @get("/", summary="List contests")
    async def list_all(self, rt: Runtime) -> list[ContestSummary]:
        return [ContestSummary(*row) for row in await rt.contest_store.summaries()]

    @documented("getContest", {404: ["not_found"]})
    @get("/{cid:str}", summary="A contest's definition and window state")
    async def read(self, rt: Runtime, cid: str) -> Contest:
        contest = await rt.contests.fresh(cid)
        return msgspec.structs.replace(
            contest, seal_public_key=rt.seal_keys.public_key(cid).hex())

    @documented("setWindow", {404: ["not_found"], 409: ["sealed", "reveal_started"]})
    @post("/{cid:str}/window", status_code=HTTP_200_OK, guards=[admin_only],
          summary="Open or close voting (admin); closing with the jury locked seals; no "
                  "reopening once the reveal has started")
    async def window(self, rt: Runtime, cid: str, data: WindowIn) -> WindowOut:
        try:
            changed = await rt.contest_store.set_window(cid, data.state)
        except asyncpg.ObjectNotInPrerequisiteStateError:  # migrations/0011
            raise ApiError(409, "sealed", f"contest {cid!r} is sealed: its window stays "
                           "closed") from None
        except RevealStarted:
            raise ApiError(409, "reveal_started", "the reveal has started: the result is "
                           "frozen and voting cannot be reopened") from None
        if not changed:
            raise not_found(f"contest {cid!r}")
        await rt.events.publish(cid, "window", data.state)
        if data.state == "closed":
            rt.sealer.seal_when_ready(await rt.contests.fresh(cid),
                                      lambda c: rt.events.publish(c, "seal"))
        return WindowOut(data.state)

    @documented("setSchedule", {404: ["not_found"], 409: ["sealed"],
                                422: ["invalid_window"]})
    @patch("/{cid:str}/schedule", status_code=HTTP_200_OK, guards=[admin_only],
           summary="Set or clear the scheduled opening and closing of voting (admin)")
    async def schedule(self, rt: Runtime, cid: str, data: ScheduleIn) -> ScheduleOut:
        if (data.opens_at is not None and data.closes_at is not None
                and data.opens_at >= data.closes_at):
            raise ApiError(422, "invalid_window", "opens_at must be before closes_at")
        if await rt.seals.sealed_at(cid) is not None:
            raise ApiError(409, "sealed", f"contest {cid!r} is sealed: its window stays closed")
        if not await rt.schedule.set_schedule(cid, data.opens_at, data.closes_at):
            raise not_found(f"contest {cid!r}")
        await rt.events.publish(cid, "schedule")
        return ScheduleOut(data.opens_at, data.closes_at)

    @documented("setResultsVisibility", {404: ["not_found"]})
    @post("/{cid:str}/visibility", status_code=HTTP_200_OK, guards=[admin_only],
          summary="Choose who sees standings and counts before the broadcast (admin)")
    async def visibility(self, rt: Runtime, cid: str, data: VisibilityIn) -> VisibilityOut:
        if not await rt.contest_store.set_visibility(cid, data.results_visibility):
            raise not_found(f"contest {cid!r}")
        await rt.events.publish(cid, "visibility", data.results_visibility)
        return VisibilityOut(data.results_visibility)
    @documented("setDisplay", {404: ["not_found"]})
    @post("/{cid:str}/display", status_code=HTTP_200_OK, guards=[admin_only],
          summary="The overlay's hide-scores mode: the order on air, not the numbers (admin)")
    async def display(self, rt: Runtime, cid: str, data: DisplayIn) -> DisplayOut:
        if not await rt.contest_store.set_display(cid, data.hide_scores):
            raise not_found(f"contest {cid!r}")
        await rt.events.publish(cid, "display", int(data.hide_scores))
        return DisplayOut(data.hide_scores)

    @documented("issueVoterToken", {404: ["not_found"], 422: ["unknown_country"]})
    @post("/{cid:str}/voter-tokens", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Issue a signed voter token (admin / app backend)")
    async def voter_token(self, rt: Runtime, cid: str, data: VoterTokenIn) -> VoterTokenOut:
        contest = await rt.contests.get(cid)
        check_voting_country(contest, data.country)
        return issue_voter_token(rt, cid, data.voter, data.country)

    @documented("issueAggregatorKey", {404: ["not_found"]})
    @post("/{cid:str}/aggregator-keys", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Issue an API key for a telecom/app aggregator (admin)")
    async def aggregator_key(self, rt: Runtime, cid: str, data: AggregatorKeyIn
                             ) -> AggregatorKeyOut:
        await rt.contests.get(cid)
        key = new_secret("agg")
        key_id = await rt.contest_store.add_aggregator_key(cid, data.name, hash_secret(key))
        return AggregatorKeyOut(key=key, id=key_id)

    @documented("revokeAggregatorKey", {404: ["not_found"]})
    @delete("/{cid:str}/aggregator-keys/{key_id:str}", status_code=HTTP_200_OK,
            guards=[admin_only],
            summary="Revoke an aggregator key at once, in every process (admin)")
    async def revoke_aggregator_key(self, rt: Runtime, cid: str, key_id: str
                                    ) -> AggregatorKeyRevoked:
        revoked_at = await rt.aggregators.revoke(cid, key_id)
        if revoked_at is None:
            raise not_found(f"aggregator key {key_id!r} of contest {cid!r}")
        return AggregatorKeyRevoked(key_id, revoked_at)

    @documented("issueReadToken", {404: ["not_found"]})
    @post("/{cid:str}/read-tokens", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Issue a read-only token that sees the full results, e.g. for graphics (admin)")
    async def read_token(self, rt: Runtime, cid: str, data: ReadTokenIn) -> ReadTokenOut:
        await rt.contests.get(cid)
        return await rt.read_tokens.issue(cid, data.label)

    @documented("listReadTokens", {404: ["not_found"]})
    @get("/{cid:str}/read-tokens", guards=[admin_only],
         summary="The contest's read tokens, live and revoked (admin)")
    async def read_tokens(self, rt: Runtime, cid: str) -> list[ReadTokenInfo]:
        await rt.contests.get(cid)
        return await rt.read_tokens.list(cid)

    @documented("revokeReadToken", {404: ["not_found"]})
    @delete("/{cid:str}/read-tokens/{token_id:str}", status_code=HTTP_200_OK,
            guards=[admin_only], summary="Revoke a read token (admin)")
    async def revoke_read_token(self, rt: Runtime, cid: str, token_id: str) -> ReadTokenInfo:
        revoked = await rt.read_tokens.revoke(cid, token_id)
        if revoked is None:
            raise not_found(f"read token {token_id!r} of contest {cid!r}")
        await rt.events.publish(cid, "read_token_revoked", token_id)  # closes its sockets
        return revoked
