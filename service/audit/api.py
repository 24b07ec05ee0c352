"""The audit chain's published checkpoint (docs/api.md): public, so that anyone
(a broadcaster's scrutineer, a journalist) can pin the chain's head and count and
later show that the events up to it were not rewritten."""

from __future__ import annotations

from litestar import Controller, get

from service.apidocs.routes import documented
from service.audit.chain import Checkpoint
from service.runtime import Runtime


class AuditController(Controller):
    path = "/api/v1/contests/{cid:str}/audit"
    tags = ["audit"]

    @documented("getAuditCheckpoint", {404: ["not_found"]})
    @get("/checkpoint", summary="Head hash, event count and time of the contest's audit "
                                "chain, to pin")
    async def checkpoint(self, rt: Runtime, cid: str) -> Checkpoint:
        await rt.contests.get(cid)  # 404 for an unknown contest
        return await rt.audit.checkpoint(cid)
