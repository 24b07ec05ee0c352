"""Flag images by country code, served by the app so graphics systems need no network.

The drawn flags are the ones the pages draw inline (`web/static/flags.js`), written out
once as files by `flags/make_flags.mjs` (SVG; PNG rendered from them in Chromium), so a
vMix or CasparCG title shows the same flag as the overlay. A code without a drawn flag
gets a lettered badge as SVG, and a plain badge as PNG.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from service.apidocs.routes import documented
from service.core.errors import not_found
from service.core.http_cache import conditional

FLAGS_DIR = Path(__file__).resolve().parent / "flags"
FLAG_NAME = re.compile(r"^(?P<code>[A-Z]{2})\.(?P<ext>svg|png)$")
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
FLAG_CACHE = "public, max-age=86400"
BADGE = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 20" width="300" '
         'height="200"><rect width="30" height="20" rx="1.5" fill="#3a3f63"/>'
         '<text x="15" y="13.6" font-family="sans-serif" font-size="9" font-weight="700" '
         'text-anchor="middle" fill="#fff">{code}</text></svg>\n')


@cache
def flag_file(code: str, ext: str) -> bytes:
    path = FLAGS_DIR / f"{code}.{ext}"
    if path.exists():
        return path.read_bytes()
    if ext == "svg":
        return BADGE.format(code=code).encode()
    return (FLAGS_DIR / "unknown.png").read_bytes()


@documented("getFlag", {404: ["not_found"]})
@get("/flags/{name:str}", tags=["graphics"], sync_to_thread=False,
     summary="A country's flag as an image: /flags/KZ.svg or /flags/KZ.png",
     responses={200: ResponseSpec(bytes, media_type="image/svg+xml", generate_examples=False,
                                  description="The flag: SVG (`.svg`) or 300×200 PNG (`.png`)"),
                304: ResponseSpec(None, description="Not Modified (no body)")})
def flag_handler(request: Request[Any, Any, Any], name: str) -> Response[bytes]:
    match = FLAG_NAME.match(name)
    if match is None:
        raise not_found("flag (use /flags/CC.svg or /flags/CC.png, CC an upper-case code)")
    body = flag_file(match["code"], match["ext"])
    response = conditional(request, body, MEDIA[match["ext"]], cache=FLAG_CACHE)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
