"""Graphics feeds for broadcast systems and the flag images they show (docs/broadcast.md).

`GET …/graphics/scoreboard.{json,xml,csv}`: one flat row per entry, in place order.
`GET …/graphics/now.{json,xml,csv}`: one row for a lower third (the step on air).
`GET /flags/{CC}.svg|.png`: a flag for each country code (a lettered badge as SVG for a
code without a drawn flag).

Every feed is built from the public results view, so it shows what the audience may see
now, carries an ETag (a bodiless 304 while nothing changed) and a short public
`Cache-Control`, so a CDN or nginx in front answers the pollers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.types import ControllerRouterHandler

from service.apidocs.routes import documented
from service.core.errors import invalid_body
from service.core.http_cache import cache_control, conditional
from service.graphics.flags import flag_handler
from service.graphics.formats import MEDIA_TYPES, Format, encode
from service.graphics.names import DEFAULT_LANGUAGE, languages
from service.graphics.rows import ScoreRow, now_row, scoreboard_rows
from service.runtime import Runtime
from service.security.guards import results_reader

FEED_ROOT = "/api/v1/contests/{cid:str}/graphics"
NOT_MODIFIED = ResponseSpec(None, description="Not Modified: the `If-None-Match` copy is "
                                              "current (no body)")
Builder = Callable[..., Any]


def language(lang: str | None) -> str:
    if lang is None:
        return DEFAULT_LANGUAGE
    if lang not in languages():
        raise invalid_body(f"lang must be one of {', '.join(languages())}")
    return lang


async def _feed(request: Request[Any, Any, Any], rt: Runtime, cid: str, lang: str | None,
                fmt: Format, build: Builder) -> Response[bytes]:
    contest = await rt.contests.get(cid)
    public, _ = await rt.results.views(contest, "live")
    rows = build(contest, public, language(lang), str(request.base_url))
    body = encode(rows if isinstance(rows, list) else [rows], fmt)
    shared = rt.settings.results_token is None
    return conditional(request, body, MEDIA_TYPES[fmt], cache=cache_control(shared=shared))


def _feed_handler(feed: str, fmt: Format, build: Builder, row_schema: Any, summary: str
                  ) -> ControllerRouterHandler:
    async def handler(request: Request[Any, Any, Any], rt: Runtime, cid: str,
                      lang: str | None = None) -> Response[bytes]:
        return await _feed(request, rt, cid, lang, fmt, build)

    handler.__name__ = f"graphics_{feed}_{fmt}"
    ok = ResponseSpec(list[row_schema] if fmt == "json" else str, media_type=MEDIA_TYPES[fmt],
                      description=f"{summary} ({fmt.upper()})", generate_examples=False)
    route = get(f"{FEED_ROOT}/{feed}.{fmt}", guards=[results_reader], tags=["graphics"],
                summary=f"{summary} ({fmt.upper()})", responses={200: ok, 304: NOT_MODIFIED})
    operation = f"get{feed.capitalize()}{fmt.capitalize()}Feed"
    return documented(operation, {400: ["invalid_body"], 404: ["not_found"]})(route(handler))


def graphics_handlers() -> list[ControllerRouterHandler]:
    """The feeds and the flags (add to the app's route handlers)."""
    handlers = []
    for fmt in ("json", "xml", "csv"):
        handlers.append(_feed_handler("scoreboard", fmt, scoreboard_rows, ScoreRow,
                                      "Scoreboard rows for graphics systems"))
        handlers.append(_feed_handler("now", fmt, now_row, dict[str, Any],
                                      "The step on air, for a lower third"))
    return [*handlers, flag_handler]
