"""Season endpoints (docs/api.md, "Seasons"): create, read, advance (admin)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, post
from litestar.status_codes import HTTP_201_CREATED

from scoring import Result
from service.apidocs.routes import documented
from service.contests.models import CreatedId
from service.contests.rules import check_definition
from service.core.errors import ApiError
from service.runtime import Runtime
from service.seasons.advance import next_contest
from service.seasons.models import AdvanceIn, AdvanceOut, Season, SeasonIn
from service.seasons.rules import check_season
from service.security.guards import admin_only

_result = msgspec.json.Decoder(Result)


class SeasonController(Controller):
    path = "/api/v1/seasons"
    tags = ["seasons"]

    @documented("createSeason", {409: ["season_exists"],
                                 422: ["invalid_season", "unknown_contest"]})
    @post("/", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Create a season: its rounds and the first round's contests (admin)")
    async def create(self, rt: Runtime, data: SeasonIn) -> CreatedId:
        check_season(data)
        return CreatedId(await rt.seasons.create(data))

    @documented("getSeason", {404: ["not_found"]})
    @get("/{sid:str}", summary="A season's rounds and their contests")
    async def read(self, rt: Runtime, sid: str) -> Season:
        return await rt.seasons.get(sid)

    @documented("advanceSeason", {404: ["not_found"], 409: [
        "results_not_frozen", "season_complete", "contest_exists"], 422: [
        "running_order_mismatch", "duplicate_voting_country"]})
    @post("/{sid:str}/advance", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Create the next round's contest from the current round's frozen "
                  "results (admin)")
    async def advance(self, rt: Runtime, sid: str, data: AdvanceIn) -> AdvanceOut:
        season = await rt.seasons.get(sid)
        current = season.rounds[season.current]
        if current.advance is None:
            raise ApiError(409, "season_complete",
                           f"season {sid!r} is in its last round ({current.name})")
        frozen = await rt.seasons.frozen_results(current.contests)
        sources = []
        for cid in current.contests:
            raw = frozen.get(cid)
            if raw is None:
                raise ApiError(409, "results_not_frozen", f"contest {cid!r} has no frozen "
                               "result: start its reveal (which freezes it) first")
            sources.append((await rt.contests.fresh(cid), _result.decode(raw)))
        position = season.current + 1
        definition, out = next_contest(current.advance, season.rounds[position].name,
                                       season.name, sources, data)
        check_definition(definition)
        going_on = [e.country for e in definition.entries]
        contest_id = await rt.seasons.add_round_contest(
            sid, position, definition, definition.vote_cap or rt.settings.vote_cap,
            going_on, out)
        return AdvanceOut(contest_id=contest_id, going_on=going_on, out=out,
                          season=await rt.seasons.get(sid))
