"""The two database roles, and which login the service connects with.

* `silkvote_owner` owns the schema; migrations run as it (migration 0010 moves
  everything to it, `migrations.apply` sets it for every later one).
* `silkvote_app` holds the service's privileges: it reads, writes the definitions and
  credentials it manages, and writes the protected state (votes, cap counters,
  ballots, audit events, the jury lock, the frozen result, ledger partitions) only
  through the owner's SECURITY DEFINER functions. The service logs in as a member of
  it, `silkvote_service` unless DATABASE_URL names another, and never as a superuser.

Configuration: DATABASE_URL is the service's login and MIGRATION_DATABASE_URL the
migrations' (a superuser the first time, for 0010's event trigger; later any member
of `silkvote_owner`). With MIGRATION_DATABASE_URL unset and a superuser in
DATABASE_URL (the embedded PostgreSQL, a developer's machine, old deployments), that
superuser migrates and the service connects as `silkvote_service` with a password
generated once into the data folder: the service never runs as the superuser it was
given. Roles are cluster-wide, so their creation tolerates another database's
migration creating them at the same moment.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import asyncpg

from service.stores.postgres import Conn

log = logging.getLogger("silkvote.migrate")

OWNER_ROLE = "silkvote_owner"
APP_ROLE = "silkvote_app"
SERVICE_LOGIN = "silkvote_service"

# Concurrent CREATE ROLE / GRANT in two databases of one cluster collide on pg_authid.
_RACES = (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError,
          asyncpg.InternalServerError)


class ServiceLoginError(RuntimeError):
    """The service's login cannot be used as configured; the message says why."""


def login_of(url: str) -> tuple[str | None, str | None]:
    """(user, password) of a PostgreSQL URL, either may be None."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    if not at:
        return None, None
    user, colon, password = userinfo.partition(":")
    return unquote(user) or None, unquote(password) if colon else None


def with_login(url: str, user: str, password: str | None) -> str:
    """`url` with another user (and password); the hosts, database and options stay."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    userinfo = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{hosts}"))


async def _retry_races(conn: Conn, sql: str) -> None:
    for attempt in range(20):
        try:
            await conn.execute(sql)
            return
        except _RACES as exc:
            if isinstance(exc, asyncpg.InternalServerError) and \
                    "concurrently" not in str(exc):
                raise
            if isinstance(exc, asyncpg.DuplicateObjectError | asyncpg.UniqueViolationError):
                return  # another database's migration created it first
            await asyncio.sleep(0.05 * (attempt + 1))
    await conn.execute(sql)


async def can_manage_roles(conn: Conn) -> bool:
    row = await conn.fetchrow(
        "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    return bool(row and (row["rolsuper"] or row["rolcreaterole"]))


async def ensure_group_roles(conn: Conn) -> None:
    """Create the owner and service group roles if the cluster lacks them."""
    for role in (OWNER_ROLE, APP_ROLE):
        if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role) is None:
            await _retry_races(conn, f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOCREATEDB "
                                     "NOCREATEROLE NOINHERIT")


async def is_superuser(conn: Conn, user: str | None = None) -> bool:
    return bool(await conn.fetchval(
        "SELECT rolsuper FROM pg_roles WHERE rolname = coalesce($1, current_user)", user))


async def provision_login(conn: Conn, user: str, password: str | None) -> None:
    """Make `user` a login member of the service group, never a superuser.

    Run on the migration connection. An existing role keeps its attributes, but a
    superuser is refused: the service must not run as one.
    """
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", user)
    ident = '"' + user.replace('"', '""') + '"'
    if exists is None:
        secret = "" if password is None else \
            " PASSWORD '" + password.replace("'", "''") + "'"
        await _retry_races(conn, f"CREATE ROLE {ident} LOGIN NOSUPERUSER NOCREATEDB "
                                 f"NOCREATEROLE{secret}")
    elif await is_superuser(conn, user):
        raise ServiceLoginError(
            f"DATABASE_URL logs in as {user}, a superuser: the service must connect as a "
            f"member of {APP_ROLE} (see docs/operations.md, database roles)")
    member = await conn.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", user, APP_ROLE)
    if not member:
        await _retry_races(conn, f"GRANT {APP_ROLE} TO {ident}")


async def set_password(conn: Conn, user: str, password: str) -> None:
    ident = '"' + user.replace('"', '""') + '"'
    await conn.execute(f"ALTER ROLE {ident} PASSWORD '" + password.replace("'", "''") + "'")


async def service_url(migration_conn: Conn, database_url: str, migrating_with_own_url: bool,
                      generated_password: str) -> str:
    """The URL the service connects with, its login provisioned on `migration_conn`.

    `migrating_with_own_url`: MIGRATION_DATABASE_URL is unset, so `database_url` was
    used to migrate. If that is a superuser, the service gets `silkvote_service` with
    `generated_password` instead; any other user is kept as it is (already a member of
    the service role, or a deployment that chose otherwise, warned about).
    """
    user, password = login_of(database_url)
    superuser = await is_superuser(migration_conn)
    if migrating_with_own_url:
        if not superuser:  # the service's own login (compose, k8s) or a legacy owner
            if await migration_conn.fetchval("SELECT pg_has_role($1, 'MEMBER')", OWNER_ROLE):
                log.warning("DATABASE_URL may change the schema (a member of %s); give the "
                            "service a member of %s and migrate with MIGRATION_DATABASE_URL",
                            OWNER_ROLE, APP_ROLE)
            return database_url
        await provision_login(migration_conn, SERVICE_LOGIN, generated_password)
        url = with_login(database_url, SERVICE_LOGIN, generated_password)
        if not await _can_log_in(url):  # created earlier with another password
            await set_password(migration_conn, SERVICE_LOGIN, generated_password)
        log.info("the service connects as %s, not as the superuser %s", SERVICE_LOGIN, user)
        return url
    if user is None:
        raise ServiceLoginError("DATABASE_URL names no user; the service needs its own login")
    if superuser or await can_manage_roles(migration_conn):
        await provision_login(migration_conn, user, password)
        if password and not await _can_log_in(database_url):  # created with another one
            await set_password(migration_conn, user, password)
    elif await is_superuser(migration_conn, user):
        raise ServiceLoginError(f"DATABASE_URL logs in as {user}, a superuser: the service "
                                f"must connect as a member of {APP_ROLE}")
    return database_url


async def _can_log_in(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError):
        return False
    await conn.close()
    return True
