"""Results, the on-air reveal, and the producer's checks (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK

from service.apidocs.routes import documented
from service.core.errors import ApiError
from service.core.http_cache import cache_control, conditional, etag_of
from service.intake.reconcile import Comparison
from service.results.compute import Source
from service.results.marks import ShownStep, shown_steps
from service.results.views import ResultsView
from service.runtime import Runtime
from service.security.guards import admin_only, require_full_reader, results_reader

_encode = msgspec.json.Encoder().encode
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOT_MODIFIED = ResponseSpec(None, description="Not Modified: the `If-None-Match` copy is "
                                              "current (no body)")


class RevealState(msgspec.Struct):
    revealed: int
    total: int
    steps: list[ShownStep]
    step: ShownStep | None = None


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
         summary="Scoreboard, sets, reveal and counts (live tallies or the ledger)",
         responses={200: ResponseSpec(ResultsView, generate_examples=False,
                                      description="The results (ETag, Cache-Control)"),
                    304: NOT_MODIFIED})
    async def results(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                      source: Source = "live", view: Literal["public", "full"] = "public"
                      ) -> Response[bytes]:
        if view == "full":
            await require_full_reader(request)
        contest = await rt.contests.get(cid)
        public, full = await rt.results.views(contest, source)
        chosen = full if view == "full" else public
        # The tag leaves `as_of` out: a 304 says nothing else changed since that copy.
        etag = etag_of(_encode(msgspec.structs.replace(chosen, as_of=_EPOCH)), weak=True)
        cache = cache_control(shared=rt.settings.results_token is None, full=view == "full")
        return conditional(request, _encode(chosen), "application/json", cache=cache,
                           etag=etag)

    @documented("getReveal", {404: ["not_found"]})
    @get("/reveal", guards=[results_reader], summary="Reveal steps shown on air so far",
         responses={200: ResponseSpec(RevealState, generate_examples=False,
                                      description="The steps so far (ETag, Cache-Control)"),
                    304: NOT_MODIFIED})
    async def reveal(self, request: Request[Any, Any, Any], rt: Runtime, cid: str
                     ) -> Response[bytes]:
        contest = await rt.contests.get(cid)
        frozen = await rt.results.frozen(cid)
        state = RevealState(0, 0, [])
        if frozen is not None:
            total = len(frozen.reveal)
            state = RevealState(min(contest.revealed, total), total,
                                shown_steps(frozen, frozen.reveal[: contest.revealed]))
        cache = cache_control(shared=rt.settings.results_token is None)
        return conditional(request, _encode(state), "application/json", cache=cache)

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
            if (await rt.contests.fresh(cid)).window == "open":  # opened since the check
                raise ApiError(409, "window_open", "close audience voting before the reveal")
            raise ApiError(409, "reveal_complete", "every step has been revealed")
        await rt.events.publish(cid, "reveal", revealed)
        steps = shown_steps(result, result.reveal[:revealed])
        return RevealState(revealed, total, steps, steps[-1])

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
