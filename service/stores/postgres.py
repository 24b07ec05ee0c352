"""PostgreSQL connection pool: the ledger is the source of truth, so every write goes here.

DATABASE_URL may list a primary and its standbys (`postgresql://u@h1:p1,h2:p2/db?
target_session_attrs=read-write`). asyncpg then tries the hosts in order for every new
connection and keeps the first writable one, so after a failover the service finds the
promoted standby by itself: the dead primary's connections close with its backends (a
postmaster's children exit when it dies), the pool discards closed connections when it
hands them out, and their replacements go to whichever host is read-write now. While
none is, a connection attempt fails at once: refused by the dead host, or
`NoWritableServer` when every host answers read-only. Both are store outages (503),
never an unexpected error.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection) -> None:
    """Decode json/jsonb columns with msgspec so rows come back as plain Python values."""
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind, encoder=lambda v: msgspec.json.encode(v).decode(), decoder=msgspec.json.decode,
            schema="pg_catalog",
        )


class NoWritableServer(ConnectionError):
    """Every host of DATABASE_URL answered, none accepts writes: the primary is gone and
    no standby is promoted yet. A ConnectionError, so routes answer it 503."""


async def _connect_writable(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """`asyncpg.connect`, with "no host matches target_session_attrs" as a store outage."""
    try:
        conn: asyncpg.Connection = await asyncpg.connect(*args, **kwargs)
    except asyncpg.exceptions.TargetServerAttributeNotMatched as exc:
        raise NoWritableServer(f"no writable PostgreSQL among the hosts: {exc}") from exc
    return conn


# Statements on the ledger name one contest; a generic plan would lock every contest's
# partitions to prune them at run time (migrations/0008 says why that hurts; record_votes
# itself keeps one plan per connection and plans only its ledger lookup per contest).
SESSION_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


async def connect(url: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool (for CLI commands and tests)."""
    conn = await _connect_writable(url, server_settings=SESSION_SETTINGS)
    await _init_connection(conn)
    return conn


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (advisory unlock, CLOSE ALL, UNLISTEN, RESET).

    The service never leaves session state on a pooled connection: no SET, LISTEN,
    cursors or session advisory locks (only transaction-scoped ones). The pool still rolls
    back an open transaction before this runs, so skipping the query only saves a round
    trip on every release, one per group-commit batch.
    """


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10,
                      timeout_s: float = 10.0) -> asyncpg.Pool:
    """Open a pool; statements are cached per connection, so hot queries are prepared once.

    `timeout_s` bounds each connection attempt over all the hosts (and each statement).
    """
    pool: Any = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection,
        connect=_connect_writable,
        reset=_keep_session, command_timeout=timeout_s, timeout=timeout_s,
        max_inactive_connection_lifetime=60, server_settings=SESSION_SETTINGS,
    )
    return pool  # type: ignore[no-any-return]


# A connection handed out by the pool or opened directly: repository functions take either.
Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"


async def ping(pool: asyncpg.Pool) -> None:
    """One round trip to the ledger (health checks)."""
    await pool.fetchval("SELECT 1")
