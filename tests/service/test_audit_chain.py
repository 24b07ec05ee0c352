"""The audit chain is keyed and publishes a checkpoint (issue 15, hole 3).

A chain rewritten by someone without AUDIT_CHAIN_KEY fails at every link; one
rewritten by someone with the key (or a superuser who recomputes it) still shows
against a checkpoint an outsider pinned before.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator

import asyncpg
import httpx
import msgspec
import pytest

from service.audit.chain import (
    Checkpoint,
    checkpoint,
    event_hash,
    record_event,
    use_chain_key,
    verify_chain,
)
from service.core.config import REPO_ROOT
from service.stores.postgres import connect
from tests.conftest import LiveServer, Stores

KEY = "audit-test-key-" + secrets.token_hex(8)


@pytest.fixture
async def chain(stores: Stores) -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """A superuser connection and a contest whose chain holds five events."""
    conn = await connect(stores.database_url)
    use_chain_key(KEY)
    cid = "audit-" + secrets.token_hex(3)
    for n in range(5):
        async with conn.transaction():
            await record_event(conn, cid, "admin", "step", {"n": n})
    yield conn, cid
    await conn.close()


@contextlib.asynccontextmanager
async def rolled_back(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A transaction undone at the end: the shared test database keeps its guards."""
    tx = conn.transaction()
    await tx.start()
    try:
        yield
    finally:
        await tx.rollback()


async def rewrite(conn: asyncpg.Connection, cid: str, key: bytes | None) -> None:
    """What a superuser can do: switch the guards off and rewrite event 2 and every
    link after it, keyed with `key` or (no key) with plain SHA-256."""
    await conn.execute("ALTER EVENT TRIGGER ledger_guards_stay DISABLE; "
                       "ALTER TABLE audit_events DISABLE TRIGGER audit_append_only")
    rows = await conn.fetch("SELECT * FROM audit_events WHERE contest_id = $1 ORDER BY id",
                            cid)
    prev = None
    for i, row in enumerate(rows):
        detail = {"n": 99} if i == 2 else row["detail"]
        if key is None:
            canonical = msgspec.json.encode([prev, cid, row["actor"], row["kind"], detail,
                                             row["at"].isoformat()], order="sorted")
            digest = hashlib.sha256(canonical).hexdigest()
        else:
            digest = event_hash(prev, cid, row["actor"], row["kind"], detail, row["at"], key)
        await conn.execute("UPDATE audit_events SET detail = $2, prev_hash = $3, "
                           "event_hash = $4 WHERE id = $1", row["id"], detail, prev, digest)
        prev = digest


async def test_an_intact_chain_verifies_and_its_checkpoint_is_head_count_and_time(
        chain: tuple[asyncpg.Connection, str]) -> None:
    conn, cid = chain
    assert await verify_chain(conn, cid) == []
    pin = await checkpoint(conn, cid)
    head = await conn.fetchrow("SELECT event_hash, at FROM audit_events WHERE contest_id = $1 "
                               "ORDER BY id DESC LIMIT 1", cid)
    assert (pin.events, pin.head_hash, pin.head_at) == (5, head["event_hash"], head["at"])
    async with conn.transaction():
        await record_event(conn, cid, "admin", "later", {})
    assert await verify_chain(conn, cid, pinned=pin) == []  # growing is not rewriting


async def test_a_chain_rewritten_without_the_key_fails_at_the_forged_links(
        chain: tuple[asyncpg.Connection, str]) -> None:
    conn, cid = chain
    async with rolled_back(conn):
        await rewrite(conn, cid, key=None)
        problems = await verify_chain(conn, cid)
    assert len(problems) == 5  # every link: unkeyed hashes match none


async def test_a_chain_rewritten_with_the_key_still_fails_against_a_pinned_checkpoint(
        chain: tuple[asyncpg.Connection, str]) -> None:
    conn, cid = chain
    pin = await checkpoint(conn, cid)
    async with rolled_back(conn):
        await rewrite(conn, cid, key=KEY.encode())
        unpinned = await verify_chain(conn, cid)
        problems = await verify_chain(conn, cid, pinned=pin)
    assert unpinned == []  # consistent: the key was used
    assert len(problems) == 1 and "rewritten" in problems[0]


async def test_a_pin_longer_than_the_chain_shows_events_removed(
        chain: tuple[asyncpg.Connection, str]) -> None:
    conn, cid = chain
    pin = await checkpoint(conn, cid)
    longer = Checkpoint(cid, pin.events + 3, pin.head_hash, pin.head_at)
    assert "fewer than" in (await verify_chain(conn, cid, pinned=longer))[0]


async def test_the_checkpoint_is_published_for_anyone_and_moves_with_each_event(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    first = (await api.get(f"/api/v1/contests/{cid}/audit/checkpoint")).json()
    assert first["events"] == 1 and first["algorithm"] == "hmac-sha256"
    assert first["head_hash"] == await ledger.fetchval(
        "SELECT event_hash FROM audit_events WHERE contest_id = $1", cid)
    r = await api.post(f"/api/v1/contests/{cid}/window", json={"state": "open"},
                       headers=live_server.admin)
    assert r.status_code == 200, r.text
    second = (await api.get(f"/api/v1/contests/{cid}/audit/checkpoint")).json()
    assert second["events"] == 2 and second["head_hash"] != first["head_hash"]
    missing = await api.get("/api/v1/contests/no-such-contest/audit/checkpoint")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_silkvote_verify_checks_the_chain_against_a_pinned_checkpoint(
        live_server: LiveServer) -> None:
    cid = live_server.new_contest()
    pin = httpx.get(f"{live_server.base_url}/api/v1/contests/{cid}/audit/checkpoint").json()

    def verify(value: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", "verify", cid, "--audit", "--pin", value],
            env=live_server.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)

    kept = verify(f"{pin['events']}:{pin['head_hash']}")
    assert kept.returncode == 0 and "audit chain intact" in kept.stdout, kept.stdout
    other = verify(f"{pin['events']}:{'0' * 64}")  # a pin the chain no longer matches
    assert other.returncode == 1 and "rewritten" in " ".join(other.stdout.split())
