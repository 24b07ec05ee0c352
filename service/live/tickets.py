"""`POST /api/v1/ws-tickets`: a single-use ticket that opens one leaderboard socket.

Browsers cannot send `Authorization` on a websocket, and tokens must never travel in
a URL, so pages trade their bearer token for a ticket here and connect with
`?ticket=` (see `service/security/ws_tickets.py` for why it is safe there).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post
from litestar.status_codes import HTTP_201_CREATED

from service.apidocs.routes import documented
from service.runtime import Runtime
from service.security.guards import bearer_reader, read_token_grant, results_access
from service.security.ws_tickets import TicketGrant


class WsTicketOut(msgspec.Struct):
    ticket: str
    expires_in: int  # seconds; the ticket opens one socket within them


@documented("issueWsTicket")
@post("/api/v1/ws-tickets", guards=[bearer_reader], status_code=HTTP_201_CREATED,
      tags=["live"], summary="Trade a bearer token for a single-use websocket ticket "
      "(`?ticket=` on the leaderboard socket)")
async def issue_ws_ticket(request: Request[Any, Any, Any], rt: Runtime) -> WsTicketOut:
    grant = TicketGrant(full=await results_access(request) is True)
    if not grant.full and (read := await read_token_grant(request)) is not None:
        # a read token: its contest only, and revoked with it (`read_token`)
        grant = TicketGrant(full=True, contest=read.contest, read_token=read.id)
    ticket = await rt.ws_tickets.issue(grant)
    return WsTicketOut(ticket, rt.ws_tickets.ttl_s)
