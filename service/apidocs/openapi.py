"""The OpenAPI configuration: version, security schemes, viewers and their headers.

`/schema` (and `/schema/openapi.json`) is the document, `/schema/swagger` and
`/schema/redoc` read it offline, `/schema/asyncapi` describes the websocket. What each
route says about its security and errors comes from `routes.py`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from litestar import Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components
from litestar.types import Method

from service.apidocs.asyncapi import ASYNCAPI_PATH, AsyncApiPlugin
from service.apidocs.routes import SECURITY_SCHEMES
from service.apidocs.viewers import OfflineRedoc, OfflineSwagger, page_headers
from service.security.text import ecmascript_pattern

SCHEMA_PATH = "/schema"
DESCRIPTION = f"""\
Audience votes, jury ballots and live results for song contests.

**Tokens.** Every route names the bearer token it accepts (*Authorize* takes each one
separately); routes without a lock are public. **Errors.** Every refusal has the body
`{{"error": {{"code": "<snake_case>", "message": "…"}}}}`; each operation lists its
statuses and the codes each one carries. A `503 unavailable` means nothing was
recorded: retry with the same idempotency key.

**Live results.** The leaderboard websocket `WS /ws/contests/{{cid}}/leaderboard` is
described by the AsyncAPI document at [{SCHEMA_PATH}{ASYNCAPI_PATH}]({SCHEMA_PATH}{ASYNCAPI_PATH}).
"""


def package_version() -> str:
    """The installed distribution's version: the document names the code it describes."""
    try:
        return version("silkvote")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def readable_operation_id(handler: HTTPRouteHandler, method: Method, _: list[Any]) -> str:
    """For a route without `@documented`: its handler's name in camelCase (`list_all` →
    `listAll`), not Litestar's path-derived `ApiV1ContestsCidListAll`."""
    first, *rest = handler.handler_name.split("_")
    name = first + "".join(word.title() for word in rest)
    if len(handler.http_methods) > 1:
        return method.lower() + name[:1].upper() + name[1:]
    return name


def _ecmascript_patterns(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ecmascript_pattern(v) if k == "pattern" and isinstance(v, str)
                else _ecmascript_patterns(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_ecmascript_patterns(v) for v in node]
    return node


class EcmaScriptJson(JsonRenderPlugin):
    """The document with its string patterns in ECMAScript's dialect (see
    `security/text.py`: the lookaheads Python needs break ReDoc's samples)."""

    def render(self, request: Any, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, _ecmascript_patterns(openapi_schema))


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="SilkVote API",
        version=package_version(),
        description=DESCRIPTION,
        path=SCHEMA_PATH,
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
        operation_id_creator=readable_operation_id,
        openapi_router=Router(SCHEMA_PATH, route_handlers=[], include_in_schema=False,
                              after_request=page_headers(), dto=None, return_dto=None),
        render_plugins=[
            EcmaScriptJson(path=["/", "/openapi.json"]),
            OfflineSwagger(),
            OfflineRedoc(),
            AsyncApiPlugin(),
        ],
    )
