"""The AsyncAPI 3.0 document of the leaderboard websocket, served at `/schema/asyncapi`.

OpenAPI has no words for a websocket, yet the overlay, the console and every graphics
vendor live on it: what arrives first, what follows, what `seq` promises, which close
codes mean "reconnect". This document says so in the format AsyncAPI tools read. The
message payloads are msgspec's JSON Schema of the very types the service encodes
(`ResultsView`), so they cannot drift from what is sent.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from litestar import Request
from litestar.enums import MediaType
from litestar.openapi.plugins import OpenAPIRenderPlugin

from service.live.hub import QUEUE_LIMIT
from service.live.ws import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_TOO_MANY,
    CLOSE_TOO_SLOW,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    WS_MAX_MESSAGE_BYTES,
)
from service.results.views import ResultsView
from service.security.ws_tickets import TICKET_TTL_S

ASYNCAPI_PATH = "/asyncapi"  # under the OpenAPI router's /schema
CHANNEL_ADDRESS = "/ws/contests/{cid}/leaderboard"

Seq = Annotated[int, msgspec.Meta(
    ge=0, description="The version of the standings this socket's view (public or full) "
    "shows, in the server process the socket is connected to: each update carries the "
    "next one, so a gap means a missed update. "
    "It restarts when the process does; compare it only within one connection.")]


class Snapshot(msgspec.Struct):
    """The standings when the socket joined: always the first message."""

    type: Literal["snapshot"]
    seq: Seq
    results: ResultsView


class Update(msgspec.Struct):
    """The standings after a change (votes, the window, the jury lock, a reveal step)."""

    type: Literal["update"]
    seq: Seq
    results: ResultsView


CLOSE_CODES: dict[int, str] = {
    CLOSE_TOO_SLOW: f"the client fell more than {QUEUE_LIMIT} updates behind; reconnect "
                    "for a fresh snapshot",
    CLOSE_UNAUTHORIZED: "the ticket is unknown, used or expired; or a token was put in the "
                        "URL; or RESULTS_TOKEN is set and neither a ticket nor a bearer "
                        "header carries it (or the admin token)",
    CLOSE_FORBIDDEN: "the ticket was issued for another contest",
    CLOSE_NOT_FOUND: "no contest has this id",
    CLOSE_TOO_MANY: "this client address holds `WS_CONNECTIONS_PER_CLIENT` sockets of this "
                    "server process already",
    CLOSE_TRY_AGAIN: "the ticket cannot be checked right now (Redis); ask for a new one",
    1009: f"a frame or message from the client exceeded {WS_MAX_MESSAGE_BYTES} bytes",
}

_TOKEN_SCHEMES = {
    "resultsToken": "`RESULTS_TOKEN` (only when it is set; otherwise the public view needs "
                    "no token).",
    "adminToken": "The producer's `ADMIN_TOKEN`: the full view (counts and jury sets "
                  "before they are announced).",
    "readToken": "A read token of the contest (`POST …/read-tokens`, admin): the full "
                 "view, read-only and revocable, for graphics systems.",
}


@cache
def _schemas() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        [Snapshot, Update], ref_template="#/components/schemas/{name}")
    return components


def _message(name: str, model: type[msgspec.Struct]) -> dict[str, Any]:
    return {
        "name": name, "title": name.title(), "summary": (model.__doc__ or "").strip(),
        "contentType": "application/json",
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
    }


def _close_codes_text() -> str:
    return "\n".join(f"- `{code}`: {meaning}" for code, meaning in CLOSE_CODES.items())


def asyncapi_document(version: str, base_url: str) -> dict[str, Any]:
    """The document for the server at `base_url` (the one the request reached)."""
    origin = urlsplit(base_url)
    security = [{"$ref": f"#/components/securitySchemes/{name}"} for name in _TOKEN_SCHEMES]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "SilkVote live leaderboard", "version": version,
            "description": (
                "The live standings of a contest, pushed to every client at most "
                "`LEADERBOARD_HZ` times a second. The HTTP API is described by the "
                "OpenAPI document at `/schema/openapi.json`."),
            "externalDocs": {"description": "The OpenAPI document of the HTTP API",
                             "url": f"{origin.scheme}://{origin.netloc}/schema/openapi.json"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "silkvote": {"host": origin.netloc,
                         "protocol": "wss" if origin.scheme == "https" else "ws",
                         "description": "The server that served this document.",
                         "security": security},
        },
        "channels": {
            "leaderboard": {
                "address": CHANNEL_ADDRESS, "title": "Leaderboard",
                "description": (
                    "Connect, and the server sends a `snapshot` of the standings, then an "
                    "`update` whenever they change; what the client sends is ignored. "
                    "Without the admin token or a read token the results are the public "
                    "view: the reveal hides what the broadcast has not announced, and "
                    "the contest's `results_visibility` withholds standings and counts "
                    "before the reveal (`standings_hidden`). A token never "
                    "goes into the URL: browsers trade theirs for a single-use ticket "
                    "(`POST /api/v1/ws-tickets` with `Authorization: Bearer`, valid "
                    f"{TICKET_TTL_S} s) and connect with `?ticket=`; other clients may "
                    "send `Authorization: Bearer` on the upgrade. Refusals accept the "
                    "connection and then close it, since a browser sees a close code "
                    f"but not an HTTP status. Close codes:\n{_close_codes_text()}"),
                "parameters": {"cid": {"description": "The contest id, as in "
                                                      "`/api/v1/contests/{cid}`."}},
                "messages": {"snapshot": {"$ref": "#/components/messages/snapshot"},
                             "update": {"$ref": "#/components/messages/update"}},
                "bindings": {"ws": {
                    "method": "GET", "bindingVersion": "0.1.0",
                    "query": {"type": "object", "properties": {"ticket": {
                        "type": "string",
                        "description": "A single-use ticket from `POST /api/v1/ws-tickets`"
                                       " (bought with the results or the admin token)."}}},
                }},
                "x-close-codes": {str(code): text for code, text in CLOSE_CODES.items()},
            },
        },
        "operations": {
            "sendStandings": {
                "action": "send", "channel": {"$ref": "#/channels/leaderboard"},
                "title": "Standings", "summary": "A snapshot on connect, then updates.",
                "security": security,
                "messages": [{"$ref": "#/channels/leaderboard/messages/snapshot"},
                             {"$ref": "#/channels/leaderboard/messages/update"}],
            },
        },
        "components": {
            "schemas": _schemas(),
            "messages": {"snapshot": _message("snapshot", Snapshot),
                         "update": _message("update", Update)},
            "securitySchemes": {
                name: {"type": "httpApiKey", "in": "query", "name": "ticket",
                       "description": f"A ticket bought with {text}"}
                for name, text in _TOKEN_SCHEMES.items()
            },
        },
    }


class AsyncApiPlugin(OpenAPIRenderPlugin):
    """Serves the AsyncAPI document beside the OpenAPI one (same router, same headers)."""

    def __init__(self, path: str = ASYNCAPI_PATH) -> None:
        super().__init__(path=path, media_type=MediaType.JSON)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        document = asyncapi_document(str(openapi_schema["info"]["version"]),
                                     str(request.base_url))
        return msgspec.json.encode(document)
