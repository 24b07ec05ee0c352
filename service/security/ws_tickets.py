"""Single-use websocket tickets: a credential a browser can put in a URL.

A browser's WebSocket API cannot send an `Authorization` header, and a token in the
URL ends up in proxy logs, browser history and screen shares. So a page asks for a
ticket over HTTP with its bearer token (`POST /api/v1/ws-tickets`) and opens the socket
with `?ticket=`: the ticket is random, lives `TICKET_TTL_S`, and opens one socket.

Tickets live in Redis so that any process can redeem one issued by another (behind a
load balancer, the POST and the upgrade rarely reach the same worker), and `GETDEL`
makes redeeming atomic: two sockets racing with one ticket, in one process or two,
get it once. Redis keeps only a hash of the ticket, so its keys are no use to a
reader of the store. Losing Redis loses only unredeemed tickets; pages ask again.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import msgspec

from service.stores import redis_keys

TICKET_TTL_S = 30


class TicketGrant(msgspec.Struct, frozen=True):
    """What a ticket opens: the full view (admin) or the public one, of one contest
    when the credential was bound to one (else any)."""

    full: bool
    contest: str | None = None
    read_token: str | None = None  # the id of the read token it was bought with


_grant_decoder = msgspec.json.Decoder(TicketGrant)


def _key(ticket: str) -> str:
    return redis_keys.ws_ticket(hashlib.sha256(ticket.encode()).hexdigest())


class WsTickets:
    """Issues and redeems tickets; every Redis command of the feature is here."""

    def __init__(self, redis: Any, ttl_s: int = TICKET_TTL_S) -> None:
        self._redis = redis
        self.ttl_s = ttl_s

    async def issue(self, grant: TicketGrant) -> str:
        ticket = secrets.token_urlsafe(24)
        await self._redis.set(_key(ticket), msgspec.json.encode(grant), ex=self.ttl_s)
        return ticket

    async def redeem(self, ticket: str) -> TicketGrant | None:
        """The grant of a ticket issued within its lifetime and never redeemed, once."""
        if not 16 <= len(ticket) <= 64:
            return None
        raw = await self._redis.getdel(_key(ticket))
        return None if raw is None else _grant_decoder.decode(raw)
