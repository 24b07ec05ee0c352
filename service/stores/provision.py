"""Start-up's database step: migrate as the owner side, then hand the service its login.

`silkvote serve`, `up`, `migrate` and `seed-demo` run this once in the parent process;
the workers it starts read the resulting DATABASE_URL (the service's login) from the
environment. See stores/database_roles.py for who is who.
"""

from __future__ import annotations

import asyncpg

from service.core.config import Settings
from service.stores.database_roles import service_url
from service.stores.migrations import Migration, apply


async def migrate_and_provision(settings: Settings) -> tuple[list[Migration], str]:
    """Apply pending migrations with MIGRATION_DATABASE_URL (else DATABASE_URL) and
    return them with the URL the service must connect with."""
    assert settings.database_url
    own = settings.migration_database_url is None
    conn = await asyncpg.connect(settings.migration_database_url or settings.database_url)
    try:
        applied = await apply(conn, settings.migrations_dir)
        url = await service_url(conn, settings.database_url, own,
                                settings.database_service_password)
    finally:
        await conn.close()
    return applied, url
