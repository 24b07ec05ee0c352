"""Contest administration endpoints (docs/api.md, "Contest set-up")."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from service.apidocs.routes import documented
from service.contests.models import (
    AggregatorKeyIn,
    AggregatorKeyOut,
    Contest,
    ContestIn,
    ContestSummary,
    CreatedId,
    VoterTokenIn,
    VoterTokenOut,
    WindowIn,
    WindowOut,
)
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
        "duplicate_voting_country", "invalid_jury_size"]})
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
        return await rt.contests.fresh(cid)

    @documented("setWindow", {404: ["not_found"]})
    @post("/{cid:str}/window", status_code=HTTP_200_OK, guards=[admin_only],
          summary="Open or close voting (admin)")
    async def window(self, rt: Runtime, cid: str, data: WindowIn) -> WindowOut:
        if not await rt.contest_store.set_window(cid, data.state):
            raise not_found(f"contest {cid!r}")
        await rt.events.publish(cid, "window", data.state)
        return WindowOut(data.state)

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
