"""The scrutineer's routes: the integrity report and voids (admin; docs/api.md)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED

from service.apidocs.routes import documented
from service.integrity.models import IntegrityReport, Void, VoidIn, VoidOut
from service.integrity.report import build_report, void_of
from service.integrity.voids import void_votes
from service.runtime import Runtime
from service.security.guards import admin_only


class IntegrityController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["integrity"]

    @documented("getIntegrityReport", {400: ["invalid_body"], 404: ["not_found"]})
    @get("/integrity", guards=[admin_only],
         summary="What a scrutineer looks at: votes and tokens per network, bursts, "
                 "concentration, per entry (admin)")
    async def report(
        self, rt: Runtime, cid: str,
        top: Annotated[int, Parameter(ge=1, le=1000, description="rows per list")] = 20,
        burst_window_s: Annotated[int, Parameter(
            ge=1, le=3600, description="the window a burst is counted in")] = 60,
        burst_threshold: Annotated[int, Parameter(
            ge=1, le=100_000, description="votes in one window that make a burst")] = 10,
    ) -> IntegrityReport:
        await rt.contests.get(cid)
        rows = await rt.integrity.report_rows(cid, top, burst_window_s, burst_threshold)
        return build_report(cid, rows, burst_window_s, burst_threshold)

    @documented("voidVotes", {404: ["not_found"], 409: ["result_frozen", "sealed"],
                              422: ["invalid_rule"]})
    @post("/voids", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Void votes by rule, with a reason; refused once the result is frozen "
                  "or the ledger sealed (admin)")
    async def void(self, rt: Runtime, cid: str, data: VoidIn) -> VoidOut:
        await rt.contests.get(cid)
        return await void_votes(rt, cid, data)

    @documented("listVoids", {404: ["not_found"]})
    @get("/voids", guards=[admin_only], summary="Every void of the contest, oldest first "
                                                "(admin)")
    async def voids(self, rt: Runtime, cid: str) -> list[Void]:
        await rt.contests.get(cid)
        return [void_of(row) for row in await rt.integrity.voids(cid)]
