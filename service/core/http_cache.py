"""Validators and freshness for the responses a CDN or a graphics system polls.

A viewer audience of millions polls the public results; a CDN or nginx `proxy_cache`
in front absorbs it only if each response says how long it stays fresh and carries a
validator. Public reads get `Cache-Control: public, max-age=1, stale-while-revalidate`
(a second old at most, plus the time a background refresh takes); an `ETag` lets any
poller (vMix, Singular, the CDN itself) revalidate with `If-None-Match` and get a
bodiless 304 while nothing changed. Reads that need a token are `private`, and the
producer's full view is never stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request, Response

PUBLIC_MAX_AGE_S = 1
STALE_WHILE_REVALIDATE_S = 2
PUBLIC = f"public, max-age={PUBLIC_MAX_AGE_S}, stale-while-revalidate={STALE_WHILE_REVALIDATE_S}"
PRIVATE = f"private, max-age={PUBLIC_MAX_AGE_S}"
NO_STORE = "private, no-store"


def etag_of(body: bytes, *, weak: bool = False) -> str:
    """A quoted entity tag from the body's digest (`weak` when the body holds a
    timestamp that the tag deliberately leaves out)."""
    tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    return "W/" + tag if weak else tag


def matches(request: Request[Any, Any, Any], etag: str) -> bool:
    """True when `If-None-Match` names `etag` (weak comparison, RFC 9110 §13.1.2)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def cache_control(*, shared: bool, full: bool = False) -> str:
    """`shared`: anyone may read it (no RESULTS_TOKEN), so a CDN may keep a copy."""
    if full:
        return NO_STORE
    return PUBLIC if shared else PRIVATE


def conditional(request: Request[Any, Any, Any], body: bytes, media_type: str, *,
                cache: str, etag: str | None = None) -> Response[bytes]:
    """The 200 with `body`, or a 304 without it when the caller's copy is current.
    `etag` defaults to the digest of `body`."""
    tag = etag or etag_of(body)
    headers = {"ETag": tag, "Cache-Control": cache}
    if matches(request, tag):
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    return Response(body, media_type=media_type, headers=headers)
