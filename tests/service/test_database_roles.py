"""The ledger cannot be rewritten by the service's role nor by the owner (issue 15, hole 3).

Each test connects as a role and tries one of the statements of the security review;
every one must be refused and leave the ledger as it was. The service's role is
`silkvote_service` (a member of `silkvote_app`), provisioned as `silkvote serve`
provisions it; the owner `silkvote_owner` has no login, so its connection is the
superuser's after `SET ROLE`. A superuser can always drop the guards themselves;
that is what the seal detects.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from service.audit.chain import record_event, use_chain_key
from service.contests.repository import LEDGER_HASH_PARTITIONS, partition_name
from service.stores.database_roles import (
    APP_ROLE,
    OWNER_ROLE,
    SERVICE_LOGIN,
    ServiceLoginError,
    is_superuser,
    service_url,
)
from service.stores.postgres import connect
from tests.conftest import LiveServer, Stores

CAP = 2


@pytest.fixture(scope="module")
async def service_db(stores: Stores) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the service's login, provisioned as `serve` does."""
    admin = await connect(stores.database_url)
    try:
        url = await service_url(admin, stores.database_url, True, secrets.token_urlsafe(24))
    finally:
        await admin.close()
    conn = await connect(url)
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def owner_db(stores: Stores) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(stores.database_url)
    await conn.execute(f"SET ROLE {OWNER_ROLE}")
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def superuser_db(stores: Stores) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(stores.database_url)
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def contest(service_db: asyncpg.Connection) -> str:
    """A contest set up entirely by the service's role: its ledger partitions, votes up
    to the cap, a ballot, the jury lock and the frozen result."""
    cid = "roles-" + secrets.token_hex(3)
    db = service_db
    async with db.transaction():
        await db.execute("INSERT INTO contests (id, name, rules, vote_cap, jury_size) "
                         "VALUES ($1, 'Roles', '{}'::jsonb, $2, 0)", cid, CAP)
        await db.execute("INSERT INTO jurors (id, contest_id, country, name, code_hash) "
                         "VALUES ($1, $2, 'AZ', 'J', $3)", f"j-{cid}", cid, secrets.token_bytes(32))
        await db.execute("SELECT create_ledger_partition($1, $2, $3)",
                         cid, partition_name(cid), LEDGER_HASH_PARTITIONS)
    await db.execute("UPDATE contests SET window_state = 'open' WHERE id = $1", cid)
    keys = [secrets.token_bytes(16) for _ in range(CAP + 1)]
    rows = await record(db, cid, keys)
    assert [r["outcome"] for r in rows] == ["accepted"] * CAP + ["vote_cap_reached"]
    await db.fetchval("SELECT save_ballot($1, $2, $3, 'h')", cid, f"j-{cid}", ["UZ", "KZ"])
    use_chain_key("roles-test-key")
    async with db.transaction():
        await record_event(db, cid, "admin", "roles_test", {})
    assert await db.fetchval("SELECT lock_jury($1)", cid) is not None
    assert await db.fetchval("SELECT freeze_result($1, $2)", cid, {"official": True})
    return cid


async def record(db: asyncpg.Connection, cid: str, keys: list[bytes]) -> list[asyncpg.Record]:
    """`keys` as app votes of one voter from AZ for UZ, through record_votes (0008)."""
    n = len(keys)
    return await db.fetch(
        "SELECT * FROM record_votes($1, $2, $3, $4, $5, $6, NULL, $7, NULL, NULL)", cid, keys,
        [b"voter"] * n, ["AZ"] * n, ["UZ"] * n, ["app"] * n,
        [secrets.token_bytes(16) for _ in keys])


def ledger_attacks(cid: str) -> list[str]:
    """The statements of hole 3 (and their obvious variants) against the ledger."""
    part = partition_name(cid)
    return [
        "TRUNCATE votes",
        f"TRUNCATE {part}",
        f"TRUNCATE {part}_h0",
        f"DELETE FROM {part}",
        f"DELETE FROM votes WHERE contest_id = '{cid}'",
        f"UPDATE votes SET entry = 'KZ' WHERE contest_id = '{cid}'",
        "SET LOCAL session_replication_role = replica; "
        f"DELETE FROM votes WHERE contest_id = '{cid}'",
        f"ALTER TABLE votes DETACH PARTITION {part}",
        f"ALTER TABLE {part} DETACH PARTITION {part}_h0",
        f"DROP TABLE {part}_h0",
        f"DROP TABLE {part} CASCADE",
        f"ALTER TABLE {part} DISABLE TRIGGER ledger_no_truncate",
        "ALTER TABLE votes DISABLE TRIGGER votes_append_only",
        "ALTER TABLE votes ENABLE REPLICA TRIGGER votes_append_only",
        f"DROP TRIGGER ledger_no_truncate ON {part}_h0",
        "TRUNCATE ballots", "DELETE FROM ballots", "TRUNCATE audit_events",
        f"UPDATE audit_events SET actor = 'nobody' WHERE contest_id = '{cid}'",
        "TRUNCATE ledger_batches",
        f"UPDATE contests SET jury_locked_at = NULL WHERE id = '{cid}'",
        f"UPDATE contests SET frozen_result = '{{}}'::jsonb WHERE id = '{cid}'",
    ]


def service_only_attacks(cid: str) -> list[str]:
    """What the owner may do but the service's role must not."""
    return [
        f"UPDATE voters SET votes_used = 0 WHERE contest_id = '{cid}'",
        f"DELETE FROM voters WHERE contest_id = '{cid}'",
        "INSERT INTO votes (contest_id, dedupe_key, voter_hash, voting_country, entry, "
        f"voter_seq, source) VALUES ('{cid}', '\\x99', 'voter', 'AZ', 'UZ', 3, 'app')",
        f"INSERT INTO ballots (contest_id, juror_id, ranking, ballot_hash) VALUES ('{cid}', "
        f"'j-{cid}', '[]', 'forged')",
        f"INSERT INTO audit_events (contest_id, actor, kind) VALUES ('{cid}', 'x', 'forged')",
        f"UPDATE ledger_heads SET batch = 0 WHERE contest_id = '{cid}'",
        "CREATE TABLE votes_shadow (LIKE votes)",
        "SET session_replication_role = replica",
        f"SELECT append_audit_event('{cid}', 'x', 'forged', '{{}}', 'not-the-head', 'h', now())",
    ]


async def ledger_state(db: asyncpg.Connection, cid: str) -> tuple[object, ...]:
    return tuple(await db.fetchrow(
        """SELECT (SELECT count(*) FROM votes WHERE contest_id = $1) AS votes,
                  (SELECT sum(votes_used) FROM voters WHERE contest_id = $1) AS used,
                  (SELECT count(*) FROM ballots WHERE contest_id = $1) AS ballots,
                  (SELECT count(*) FROM audit_events) AS events,
                  (SELECT jury_locked_at FROM contests WHERE id = $1) AS locked,
                  (SELECT frozen_result::text FROM contests WHERE id = $1) AS frozen,
                  (SELECT count(*) FROM pg_partition_tree('votes')) AS partitions""", cid))


async def refused(db: asyncpg.Connection, statement: str) -> bool:
    """Whether `statement` fails (in a transaction rolled back either way)."""
    tx = db.transaction()
    await tx.start()
    try:
        await db.execute(statement)
    except asyncpg.PostgresError:
        return True
    finally:
        await tx.rollback()
    return False


async def test_no_role_of_the_service_is_a_superuser_or_bypasses_anything(
        service_db: asyncpg.Connection) -> None:
    rows = await service_db.fetch(
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
        "WHERE rolname = ANY($1)", [OWNER_ROLE, APP_ROLE, SERVICE_LOGIN])
    assert {r["rolname"] for r in rows} == {OWNER_ROLE, APP_ROLE, SERVICE_LOGIN}
    assert not any(r["rolsuper"] or r["rolbypassrls"] or r["rolcreaterole"]
                   or r["rolcreatedb"] for r in rows)
    assert await service_db.fetchval("SELECT current_user") == SERVICE_LOGIN
    assert not await service_db.fetchval("SELECT pg_has_role($1, 'MEMBER')", OWNER_ROLE)


async def test_the_service_role_cannot_rewrite_the_ledger_or_the_contest_s_final_facts(
        service_db: asyncpg.Connection, contest: str) -> None:
    before = await ledger_state(service_db, contest)
    let_through = [s for s in ledger_attacks(contest) + service_only_attacks(contest)
                   if not await refused(service_db, s)]
    assert let_through == []
    assert await ledger_state(service_db, contest) == before


async def test_the_owner_cannot_empty_detach_drop_or_unguard_the_ledger(
        owner_db: asyncpg.Connection, contest: str) -> None:
    before = await ledger_state(owner_db, contest)
    let_through = [s for s in ledger_attacks(contest) if not await refused(owner_db, s)]
    assert let_through == []
    assert await ledger_state(owner_db, contest) == before


async def test_even_a_superuser_s_replica_mode_and_truncates_hit_the_guards(
        superuser_db: asyncpg.Connection, contest: str) -> None:
    """Triggers fire ALWAYS, so session_replication_role does not switch them off; a
    superuser must drop the event triggers first, which the seal is there to show."""
    part = partition_name(contest)
    for statement in (f"SET LOCAL session_replication_role = replica; DELETE FROM {part}",
                      f"TRUNCATE {part}", f"TRUNCATE {part}_h3",
                      f"ALTER TABLE votes DETACH PARTITION {part}", f"DROP TABLE {part}_h2"):
        assert await refused(superuser_db, statement), statement


async def test_every_partition_present_and_future_carries_an_always_on_truncate_guard(
        superuser_db: asyncpg.Connection, contest: str) -> None:
    unguarded = await superuser_db.fetch(
        """SELECT t.relid::regclass::text AS rel FROM pg_partition_tree('votes') t
            WHERE t.relid <> 'votes'::regclass AND NOT EXISTS (
                  SELECT 1 FROM pg_trigger g WHERE g.tgrelid = t.relid
                     AND g.tgname = 'ledger_no_truncate' AND g.tgenabled = 'A')""")
    assert [r["rel"] for r in unguarded] == []
    owners = await superuser_db.fetch(
        "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class "
        "WHERE oid IN (SELECT relid FROM pg_partition_tree('votes'))")
    assert [r["owner"] for r in owners] == [OWNER_ROLE]


async def test_the_service_writes_protected_state_only_through_its_functions(
        service_db: asyncpg.Connection, contest: str) -> None:
    """The functions keep their own rules: the cap, one lock, one frozen result."""
    more = await record(service_db, contest, [secrets.token_bytes(16)])
    assert [r["outcome"] for r in more] == ["vote_cap_reached"]
    locked = await service_db.fetchval("SELECT jury_locked_at FROM contests WHERE id = $1",
                                       contest)
    assert await service_db.fetchval("SELECT lock_jury($1)", contest) == locked
    assert not await service_db.fetchval("SELECT freeze_result($1, $2)", contest, {"x": 1})
    with pytest.raises(asyncpg.PostgresError, match="locked"):
        await service_db.fetchval("SELECT save_ballot($1, $2, '[]', 'late')", contest,
                                  f"j-{contest}")
    with pytest.raises(asyncpg.PostgresError, match="bad ledger partition"):
        await service_db.execute("SELECT create_ledger_partition($1, $2, 8)", contest,
                                 'votes_x"; DROP TABLE votes; --')


async def test_a_served_app_connects_as_the_service_login_not_the_superuser_it_was_given(
        live_server: LiveServer, ledger: asyncpg.Connection) -> None:
    """The test server is given the superuser's DATABASE_URL, as a developer might."""
    assert await is_superuser(ledger)
    assert httpx.get(f"{live_server.base_url}/readyz").status_code == 200
    users = {r["usename"] for r in await ledger.fetch(
        "SELECT usename FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")}
    assert SERVICE_LOGIN in users


async def test_a_superuser_named_as_the_service_s_login_is_refused(
        superuser_db: asyncpg.Connection, stores: Stores) -> None:
    """With MIGRATION_DATABASE_URL set, DATABASE_URL must not be a superuser."""
    with pytest.raises(ServiceLoginError, match="superuser"):
        await service_url(superuser_db, stores.database_url, False, "unused")
