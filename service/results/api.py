"""Results, the on-air reveal, and the producer's checks (spec/api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK

from scoring import RevealStep
from service.contests.events import publish_contest_event
from service.core.errors import ApiError, unauthorized
from service.intake.reconcile import Comparison, compare
from service.intake.tallies import read_tallies
from service.results.compute import Source, freeze_official, frozen_result, results_views
from service.results.views import ResultsView
from service.runtime import Runtime
from service.security.auth import bearer_token, require_admin, secrets_equal


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


def is_admin(request: Request[Any, Any, Any], rt: Runtime) -> bool:
    token = bearer_token(request)
    return token is not None and secrets_equal(token, rt.settings.admin_token)


def require_reader(request: Request[Any, Any, Any], rt: Runtime) -> None:
    """Results are public unless RESULTS_TOKEN is set (the admin token always reads)."""
    wanted = rt.settings.results_token
    if wanted is None or is_admin(request, rt):
        return
    token = bearer_token(request)
    if token is None or not secrets_equal(token, wanted):
        raise unauthorized("a results token is required")


class ResultsController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["results"]

    @get("/results", summary="Scoreboard, sets, reveal and counts (live tallies or the ledger)")
    async def results(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                      source: Source = "live", view: Literal["public", "full"] = "public"
                      ) -> ResultsView:
        require_reader(request, rt)
        if view == "full":
            require_admin(request, rt.settings.admin_token)
        contest = await rt.contests.get(cid)
        public, full = await results_views(rt, contest, source)
        return full if view == "full" else public

    @get("/reveal", summary="Reveal steps shown on air so far")
    async def reveal(self, request: Request[Any, Any, Any], rt: Runtime, cid: str
                     ) -> RevealState:
        require_reader(request, rt)
        contest = await rt.contests.get(cid)
        frozen = await frozen_result(rt, cid)
        steps = frozen.reveal if frozen else []
        return RevealState(min(contest.revealed, len(steps)), len(steps),
                           steps[: contest.revealed])

    @post("/reveal/next", status_code=HTTP_200_OK,
          summary="Advance the on-air reveal one step (admin); freezes the official result")
    async def reveal_next(self, request: Request[Any, Any, Any], rt: Runtime, cid: str
                          ) -> RevealState:
        require_admin(request, rt.settings.admin_token)
        rt.contests.forget(cid)
        contest = await rt.contests.get(cid)
        if contest.window == "open":
            raise ApiError(409, "window_open", "close audience voting before the reveal")
        result = await freeze_official(rt, contest)
        total = len(result.reveal)
        async with rt.pool.acquire() as conn:
            revealed = await conn.fetchval(
                "UPDATE contests SET revealed = revealed + 1 WHERE id = $1 AND revealed < $2 "
                "RETURNING revealed", cid, total,
            )
        if revealed is None:
            raise ApiError(409, "reveal_complete", "every step has been revealed")
        await publish_contest_event(rt, cid, "reveal", revealed)
        return RevealState(revealed, total, result.reveal[:revealed], result.reveal[revealed - 1])

    @post("/verify", status_code=HTTP_200_OK,
          summary="Compare live tallies with the ledger and list every difference (admin)")
    async def verify(self, request: Request[Any, Any, Any], rt: Runtime, cid: str
                     ) -> Comparison:
        require_admin(request, rt.settings.admin_token)
        return await compare(rt, await rt.contests.get(cid))

    @get("/stats", summary="Live vote counts for the producer console (admin)")
    async def stats(self, request: Request[Any, Any, Any], rt: Runtime, cid: str) -> Stats:
        contest = await rt.admin_contest(request, cid)
        counts = await read_tallies(rt.redis, cid, contest.voting_countries)
        by_entry: dict[str, int] = {}
        for row in counts.values():
            for entry, n in row.items():
                by_entry[entry] = by_entry.get(entry, 0) + n
        by_country = {country: sum(row.values()) for country, row in counts.items()}
        return Stats(sum(by_country.values()), by_country, by_entry, contest.window,
                     datetime.now(UTC))
