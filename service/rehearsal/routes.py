"""The console's rehearsal button: start a rehearsal job, then poll its progress
(docs/api.md, "Rehearsals")."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_202_ACCEPTED

from service.apidocs.routes import documented
from service.core.errors import not_found
from service.rehearsal.jobs import RehearsalJob
from service.runtime import Runtime
from service.security.guards import admin_only


class RehearsalIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rate: Annotated[float, msgspec.Meta(ge=0.1, le=500)] = 20.0  # audience votes a second
    seconds: Annotated[float, msgspec.Meta(ge=0.2, le=600)] = 10.0


class RehearsalController(Controller):
    path = "/api/v1"
    tags = ["rehearsals"]

    @documented("startRehearsal", {404: ["not_found"]})
    @post("/contests/{cid:str}/rehearsals", status_code=HTTP_202_ACCEPTED, guards=[admin_only],
          summary="Start a dress rehearsal on a copy of the contest, in the background (admin)")
    async def start(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                    data: RehearsalIn) -> RehearsalJob:
        await rt.contests.get(cid)
        token = request.headers.get("authorization", "").partition(" ")[2]
        return await rt.rehearsals.start(str(request.base_url), token, cid, data.rate,
                                         data.seconds)

    @documented("getRehearsal", {404: ["not_found"]})
    @get("/rehearsals/{job_id:str}", guards=[admin_only],
         summary="A rehearsal job's progress, and its report once done (admin)")
    async def progress(self, rt: Runtime, job_id: str) -> RehearsalJob:
        job = await rt.rehearsals.get(job_id)
        if job is None:
            raise not_found(f"rehearsal {job_id!r}")
        return job
