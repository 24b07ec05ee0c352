"""Apply the plain-SQL files in `migrations/` in order, each exactly once.

A PostgreSQL advisory lock serialises concurrent starters (several replicas booting at
once): the first applies, the others wait and then find nothing left to do.

Who: the connecting user (MIGRATION_DATABASE_URL, see stores/database_roles.py) applies
migrations up to 0010, which hands the schema to the `silkvote_owner` role; every later
migration runs as that owner (`SET LOCAL ROLE`), so what it creates is the owner's and
gets 0010's default privileges, and any new function the service may call is made
SECURITY DEFINER with a fixed search_path, those of 0001-0010 included.

Which folder: `Settings.migrations_dir` (`MIGRATIONS_DIR`, else the migrations shipped
with the code, see `service.core.config.shipped_migrations`). A folder without any
migration is an error, never "up to date": it means the schema was not found.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from service.stores.database_roles import OWNER_ROLE, can_manage_roles, ensure_group_roles
from service.stores.postgres import Conn

log = logging.getLogger("silkvote.migrate")

MIGRATION_LOCK_ID = 0x5117_0001  # arbitrary constant shared by every SilkVote process
ROLES_MIGRATION = "0010"  # from here on, migrations run as the owner role

# After every run from 0010 on: every volatile function (a write path the service may
# call) runs as the owner with a fixed search_path (trigger functions keep running as
# whoever fired them; IMMUTABLE and STABLE ones write nothing and stay inlinable), and
# every append-only guard fires ALWAYS. 0010 leaves this to the runner, so it is written
# once.
_SECURE_FUNCTIONS = """
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace
                AND p.proowner = 'silkvote_owner'::regrole AND p.prokind = 'f'
                AND p.provolatile = 'v' AND NOT p.prosecdef
                AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
    LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = public, pg_temp',
                       r.fn);
    END LOOP;
    FOR r IN SELECT tg.tgrelid::regclass AS rel, tg.tgname FROM pg_trigger tg
              WHERE tg.tgfoid = 'refuse_history_rewrite'::regproc AND tg.tgenabled = 'O'
                AND tg.tgparentid = 0
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', r.rel, r.tgname);
    END LOOP;
END;
$$
"""
_FILE_PATTERN = re.compile(r"^(\d{4})_[\w-]+\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    migration: Migration
    applied_at: str | None
    checksum_matches: bool


class MigrationsNotFound(FileNotFoundError):
    """The migrations folder is missing or holds no migration; the message names it."""


def discover(folder: Path) -> list[Migration]:
    """Every `NNNN_name.sql` file in `folder`, ordered by its number.

    Raises MigrationsNotFound when the folder is missing or empty: applying nothing
    would report an empty database as up to date.
    """
    if not folder.is_dir():
        raise MigrationsNotFound(f"migrations folder {folder} does not exist "
                                 "(check MIGRATIONS_DIR)")
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if match is None:
            raise ValueError(f"migration file {path.name} must be named NNNN_description.sql")
        found.append(Migration(match.group(1), path.name, path.read_text(encoding="utf-8")))
    if not found:
        raise MigrationsNotFound(f"migrations folder {folder} holds no NNNN_name.sql file "
                                 "(check MIGRATIONS_DIR)")
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migration files share a number in {folder}")
    return found


async def status(conn: Conn, folder: Path) -> list[MigrationStatus]:
    """Each known migration with when it was applied (None = pending)."""
    known = discover(folder)  # before touching the database: a wrong folder changes nothing
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        await conn.execute(_CREATE_TABLE)  # the service's own role may not create it
    rows = await conn.fetch("SELECT version, checksum, applied_at FROM schema_migrations")
    applied = {r["version"]: r for r in rows}
    result = []
    for migration in known:
        row = applied.get(migration.version)
        result.append(MigrationStatus(
            migration,
            row["applied_at"].isoformat(timespec="seconds") if row else None,
            row is None or row["checksum"] == migration.checksum,
        ))
    return result


async def apply(conn: Conn, folder: Path) -> list[Migration]:
    """Apply pending migrations under the advisory lock; return the ones applied now."""
    discover(folder)  # a missing folder fails here, before waiting for the lock
    if await can_manage_roles(conn):
        await ensure_group_roles(conn)
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        applied_now = []
        rows = await status(conn, folder)
        as_owner = any(r.migration.version == ROLES_MIGRATION and r.applied_at is not None
                       for r in rows)
        for item in rows:
            if item.applied_at is not None:
                if not item.checksum_matches:
                    log.warning("migration %s changed after it was applied", item.migration.name)
                continue
            async with conn.transaction():
                if as_owner:
                    await conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
                await conn.execute(item.migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    item.migration.version, item.migration.name, item.migration.checksum,
                )
            log.info("applied migration %s", item.migration.name)
            applied_now.append(item.migration)
            if item.migration.version == ROLES_MIGRATION:
                as_owner = True
        if as_owner and applied_now:  # a start with nothing to apply may lack the owner role
            async with conn.transaction():
                await conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
                await conn.execute(_SECURE_FUNCTIONS)
        return applied_now
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)


async def apply_url(url: str, folder: Path) -> list[Migration]:
    """Connect, apply, disconnect: what `silkvote migrate` and start-up run."""
    conn = await asyncpg.connect(url)
    try:
        return await apply(conn, folder)
    finally:
        await conn.close()
