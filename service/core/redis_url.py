"""The Sentinel form of REDIS_URL, read once with the settings.

    redis+sentinel://[[user]:password@]host1:port1,host2:port2,host3:port3/<master>[/<db>]

It is parsed here, in `core/`, so that a malformed URL stops `load_settings` with a
message naming REDIS_URL (as every other bad setting does) instead of failing the
first Redis connection mid-start; `service/stores/redis.py` builds the client from it.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import msgspec

SENTINEL_SCHEME = "redis+sentinel://"
SENTINEL_PORT = 26379
FORM = "redis+sentinel://host1:port1,host2:port2,…/<master-name>, then /<db> if not 0"


class SentinelAddress(msgspec.Struct, frozen=True):
    """What a `redis+sentinel://` URL says."""

    sentinels: list[tuple[str, int]]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def parse_sentinel_url(url: str) -> SentinelAddress:
    """The Sentinels, master name, db and credentials of a `redis+sentinel://` URL;
    ValueError (naming REDIS_URL and the expected form) for anything else."""
    if not url.startswith(SENTINEL_SCHEME):
        raise ValueError(f"REDIS_URL is not a Sentinel URL ({FORM})")
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    sentinels = []
    for host in filter(None, hosts.split(",")):
        name, colon, port = host.rpartition(":")
        if not colon or name.endswith(":"):  # no port, or an IPv6 address without [ ]
            name, port = host, ""
        if not name.strip("[]") or (port and not port.isdigit()):
            raise ValueError(f"REDIS_URL has a bad Sentinel address {host!r} ({FORM})")
        sentinels.append((name.strip("[]"), int(port) if port else SENTINEL_PORT))
    path = [p for p in parts.path.split("/") if p]
    if not sentinels or not 1 <= len(path) <= 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError(f"REDIS_URL must look like {FORM}")
    return SentinelAddress(sentinels, unquote(path[0]), int(path[1]) if len(path) == 2 else 0,
                           unquote(username) or None, unquote(password) or None)
