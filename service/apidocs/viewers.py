"""Swagger UI and ReDoc from this server's own files, under the pages' strict CSP.

Litestar's viewers load their scripts from CDNs and start them with an inline script
carrying the whole document. On a show's isolated network the CDN is unreachable and
the page stays blank; and an inline script would need `'unsafe-inline'` on a page where
people paste the admin token. So the plugins point at the vendored bundles
(`service/web/static/vendor/`, see its README for versions and licences) and render a
page whose only scripts are files of this origin: the bundle, then a small starter
(`static/apidocs/`) that reads the document's URL from a `data-` attribute.
"""

from __future__ import annotations

from html import escape
from typing import Any, cast

from litestar import Request, Response, Router
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.types import AfterRequestHookHandler

from service.web.pages import security_headers

STATIC = "/static"
SWAGGER = f"{STATIC}/vendor/swagger-ui"
REDOC = f"{STATIC}/vendor/redoc"
FAVICON = f"<link rel='icon' href='{STATIC}/favicon.svg' type='image/svg+xml'>"
STYLE = f"<link rel='stylesheet' href='{STATIC}/apidocs/apidocs.css'>"


def page_headers(*, styled_viewer: bool = False) -> AfterRequestHookHandler:
    """An `after_request` hook: the pages' security headers (service/web/pages.py)."""
    headers = security_headers(styled_viewer=styled_viewer)

    async def with_page_headers(response: Response[Any]) -> Response[Any]:
        response.headers.update(headers)
        return response

    return cast("AfterRequestHookHandler", with_page_headers)


def _page(title: str, head: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title>{FAVICON}{STYLE}{head}</head>"
        f"<body>{body}</body></html>"
    ).encode()


class OfflineSwagger(SwaggerRenderPlugin):
    """Swagger UI (`/schema/swagger`): try requests with each route's own token."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                         css_url=f"{SWAGGER}/swagger-ui.css",
                         standalone_preset_js_url=f"{SWAGGER}/swagger-ui-standalone-preset.js",
                         path=path, favicon=FAVICON, style=STYLE)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec_url = escape(self.get_openapi_json_route(request))
        return _page(
            f"{openapi_schema['info']['title']} — Swagger UI",
            f"<link rel='stylesheet' href='{self.css_url}'>",
            f"<div id='swagger-ui' data-spec-url='{spec_url}'></div>"
            f"<script src='{self.js_url}'></script>"
            f"<script src='{self.standalone_preset_js_url}'></script>"
            f"<script src='{STATIC}/apidocs/swagger.js'></script>",
        )


class OfflineRedoc(RedocRenderPlugin):
    """ReDoc (`/schema/redoc`): the reference to read, without Google Fonts.

    ReDoc styles itself through styled-components, which adds `<style>` elements, and
    searches in a worker made from a blob, so its page alone allows both
    (`receive_router`); its scripts stay same-origin, and nobody types a token into it.
    """

    def __init__(self, path: str = "/redoc") -> None:
        super().__init__(js_url=f"{REDOC}/redoc.standalone.js", google_fonts=False,
                         path=path, favicon=FAVICON, style=STYLE)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec_url = escape(self.get_openapi_json_route(request))
        return _page(
            f"{openapi_schema['info']['title']} — ReDoc", "",
            f"<div id='redoc' data-spec-url='{spec_url}'></div>"
            f"<script src='{self.js_url}'></script>"
            f"<script src='{STATIC}/apidocs/redoc.js'></script>",
        )

    def receive_router(self, router: Router) -> None:
        for route in router.routes:
            for handler in getattr(route, "route_handlers", []):
                if isinstance(handler, HTTPRouteHandler) and set(handler.paths) & set(self.paths):
                    # set after construction, where Litestar's own wrapping is skipped:
                    # hence an async hook, and the slot's internal annotation
                    handler.after_request = page_headers(  # type: ignore[assignment]
                        styled_viewer=True)
