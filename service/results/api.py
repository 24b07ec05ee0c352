"""Results, the on-air reveal, and the producer's checks (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK

from scoring import RevealStep
from service.apidocs.routes import documented
from service.core.errors import ApiError
from service.intake.reconcile import Comparison
from service.results.compute import Source
from service.results.views import ResultsView
from service.runtime import Runtime
from service.security.guards import admin_only, require_admin, results_reader


class RevealState(msgspec.Struct):
    revealed: int
    total: int
    steps: list[RevealStep]
    step: RevealStep | None = None


class Stats(msgspec.Struct):
    accepted_total: int
    by_country: dict[str, int]
    by_entry: dict[str, int]
    window: str
    as_of: datetime


class ResultsController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["results"]

    @documented("getResults", {400: ["invalid_body"], 404: ["not_found"]})
    @get("/results", guards=[results_reader],
         summary="Scoreboard, sets, reveal and counts (live tallies or the ledger)")
    async def results(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                      source: Source = "live", view: Literal["public", "full"] = "public"
                      ) -> ResultsView:
        if view == "full":
            require_admin(request)
        contest = await rt.contests.get(cid)
        public, full = await rt.results.views(contest, source)
        return full if view == "full" else public

    @documented("getReveal", {404: ["not_found"]})
    @get("/reveal", guards=[results_reader], summary="Reveal steps shown on air so far")
    async def reveal(self, rt: Runtime, cid: str) -> RevealState:
        contest = await rt.contests.get(cid)
        frozen = await rt.results.frozen(cid)
        steps = frozen.reveal if frozen else []
        return RevealState(min(contest.revealed, len(steps)), len(steps),
                           steps[: contest.revealed])

    @documented("revealNext", {404: ["not_found"], 409: ["window_open", "reveal_complete"]})
    @post("/reveal/next", status_code=HTTP_200_OK, guards=[admin_only],
          summary="Advance the on-air reveal one step (admin); freezes the official result")
    async def reveal_next(self, rt: Runtime, cid: str) -> RevealState:
        contest = await rt.contests.fresh(cid)
        if contest.window == "open":
            raise ApiError(409, "window_open", "close audience voting before the reveal")
        result = await rt.results.freeze_official(contest)
        total = len(result.reveal)
        revealed = await rt.results.advance_reveal(cid, total)
        if revealed is None:
            raise ApiError(409, "reveal_complete", "every step has been revealed")
        await rt.events.publish(cid, "reveal", revealed)
        return RevealState(revealed, total, result.reveal[:revealed], result.reveal[revealed - 1])

    @documented("verifyTallies", {404: ["not_found"]})
    @post("/verify", status_code=HTTP_200_OK, guards=[admin_only],
          summary="Compare live tallies with the ledger and list every difference (admin)")
    async def verify(self, rt: Runtime, cid: str) -> Comparison:
        return await rt.tally_check.compare(await rt.contests.get(cid))

    @documented("getStats", {404: ["not_found"]})
    @get("/stats", guards=[admin_only], summary="Live vote counts for the producer console (admin)")
    async def stats(self, rt: Runtime, cid: str) -> Stats:
        contest = await rt.contests.get(cid)
        counts = await rt.tallies.read(cid, contest.voting_countries)
        by_entry: dict[str, int] = {}
        for row in counts.values():
            for entry, n in row.items():
                by_entry[entry] = by_entry.get(entry, 0) + n
        by_country = {country: sum(row.values()) for country, row in counts.items()}
        return Stats(sum(by_country.values()), by_country, by_entry, contest.window,
                     datetime.now(UTC))
