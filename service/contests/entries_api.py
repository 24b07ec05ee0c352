"""Entry changes (docs/api.md, "Entry changes"): rename, reorder, disqualify (admin).

Each answers the contest as it now stands and tells every process to re-read it, so
the live leaderboard and the next results read already score the change.
"""

from __future__ import annotations

from litestar import Controller, patch, post
from litestar.status_codes import HTTP_200_OK

from service.apidocs.routes import documented
from service.contests.models import Contest, DisqualifyIn, EntryChangeIn, RunningOrderIn
from service.runtime import Runtime
from service.security.guards import admin_only

_REFUSED = {404: ["not_found"], 409: ["sealed", "result_frozen"]}


async def _changed(rt: Runtime, cid: str) -> Contest:
    await rt.events.publish(cid, "contest")
    return await rt.contests.fresh(cid)


class EntryController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["contests"]
    guards = [admin_only]

    @documented("renameEntry", _REFUSED)
    @patch("/entries/{country:str}", status_code=HTTP_200_OK,
           summary="Rename an entry's artist or song (admin; an audit event)")
    async def rename(self, rt: Runtime, cid: str, country: str, data: EntryChangeIn
                     ) -> Contest:
        await rt.entry_changes.rename(cid, country, data.artist, data.song)
        return await _changed(rt, cid)

    @documented("reorderEntries", {**_REFUSED, 422: ["running_order_mismatch"]})
    @post("/running-order", status_code=HTTP_200_OK,
          summary="Set the running order (admin; an audit event)")
    async def reorder(self, rt: Runtime, cid: str, data: RunningOrderIn) -> Contest:
        await rt.entry_changes.reorder(cid, data.order)
        return await _changed(rt, cid)

    @documented("disqualifyEntry", {404: ["not_found"], 409: [
        "sealed", "result_frozen", "already_disqualified", "last_entry"]})
    @post("/entries/{country:str}/disqualify", status_code=HTTP_200_OK,
          summary="Disqualify an entry: its votes count for no one (admin; an audit event)")
    async def disqualify(self, rt: Runtime, cid: str, country: str, data: DisqualifyIn
                         ) -> Contest:
        await rt.entry_changes.disqualify(cid, country, data.reason)
        return await _changed(rt, cid)
