"""HTML pages and their static files (plain HTML, CSS and ES modules; no build step).

Every page is a fixed HTML shell from `templates/`; the scripts in `static/` read the
contest id from the URL and talk only to the public API and the leaderboard websocket.
The shells carry strict security headers: scripts, styles and connections from this
origin only (plus ws:/wss: for the websocket), no referrer, no MIME sniffing, and no
framing, except the broadcast overlay, which graphics systems embed in other pages.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import MediaType, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
I18N_DIR = WEB_DIR / "i18n"
TEMPLATES_DIR = WEB_DIR / "templates"


def content_security_policy(frame_ancestors: str, *, styled_viewer: bool = False) -> str:
    """`styled_viewer` is for ReDoc (/schema/redoc): it styles itself with `<style>`
    elements and searches in a worker made from a blob. Scripts stay same-origin."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'" if styled_viewer else "style-src 'self'",
        *(["worker-src 'self' blob:"] if styled_viewer else []),
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


def security_headers(*, embeddable: bool = False, styled_viewer: bool = False
                     ) -> dict[str, str]:
    """Headers for an HTML page; `embeddable` lets any site frame it (the overlay)."""
    headers = {
        "Content-Security-Policy": content_security_policy(
            "*" if embeddable else "'self'", styled_viewer=styled_viewer),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
    if not embeddable:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


@cache
def template(name: str) -> bytes:
    return (TEMPLATES_DIR / name).read_bytes()


def html_page(name: str, *, embeddable: bool = False) -> Response[bytes]:
    return Response(
        template(name), media_type=MediaType.HTML, headers=security_headers(embeddable=embeddable)
    )


@get("/", include_in_schema=False, sync_to_thread=False)
def index_page() -> Response[bytes]:
    """Links to the pages of every contest."""
    return html_page("index.html")


@get("/vote/{cid:str}", include_in_schema=False, sync_to_thread=False)
def vote_page(cid: str) -> Response[bytes]:
    """Viewer voting page (phone-first, in every language of web/i18n/)."""
    return html_page("vote.html")


@get("/jury", include_in_schema=False, sync_to_thread=False)
def jury_page() -> Response[bytes]:
    """Jury tablet page: code login, ranking, review, submit."""
    return html_page("jury.html")


@get("/console/{cid:str}", include_in_schema=False, sync_to_thread=False)
def console_page(cid: str) -> Response[bytes]:
    """Producer console (admin token typed into the page)."""
    return html_page("console.html")


@get("/presenter/{cid:str}", include_in_schema=False, sync_to_thread=False)
def presenter_page(cid: str) -> Response[bytes]:
    """Presenter's script: the line to read for each reveal step, next-step preview,
    keyboard control (admin token typed into the page)."""
    return html_page("presenter.html")


@get("/overlay/{cid:str}", include_in_schema=False, sync_to_thread=False)
def overlay_page(cid: str) -> Response[bytes]:
    """1920×1080 broadcast scoreboard; embeddable anywhere (frame-ancestors *)."""
    return html_page("overlay.html", embeddable=True)


@get("/lower-third/{cid:str}", include_in_schema=False, sync_to_thread=False)
def lower_third_page(cid: str) -> Response[bytes]:
    """1920×1080 lower third of the step on air (CasparCG template calls); embeddable."""
    return html_page("lower-third.html", embeddable=True)


def _static_headers(response: Response) -> Response:  # type: ignore[type-arg]
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _files_router(path: str, folder: Path, name: str) -> ControllerRouterHandler:
    """Files the pages load, revalidated on every use (a show's update must reach the
    next page load, not a browser's heuristic cache) and never type-sniffed."""
    return create_static_files_router(
        path=path, directories=[folder], name=name,
        cache_control=CacheControlHeader(no_cache=True), after_request=_static_headers,
        include_in_schema=False)


def page_handlers() -> list[ControllerRouterHandler]:
    """The pages plus `/static` and `/i18n` (the translation files; add to the app's
    route handlers)."""
    return [index_page, vote_page, jury_page, console_page, presenter_page, overlay_page,
            lower_third_page, _files_router("/static", STATIC_DIR, "web-static"),
            _files_router("/i18n", I18N_DIR, "web-i18n")]
