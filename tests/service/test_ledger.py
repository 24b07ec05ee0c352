"""The ledger function itself, driven from several connections at once."""

from __future__ import annotations

import asyncio
import os

from service.intake.ledger import PendingVote, app_dedupe_key, record_votes
from service.stores.postgres import connect
from tests.conftest import LiveServer, Stores
from tests.service.helpers import open_window


async def test_the_same_batch_committed_from_eight_connections_at_once_counts_once(
        stores: Stores, live_server: LiveServer, api: object) -> None:
    cid = live_server.new_contest(vote_cap=3)
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    voters = [os.urandom(32) for _ in range(50)]
    batch = [PendingVote(cid, app_dedupe_key(v, f"tap{i}"), v, "KZ", "UZ", "app")
             for v in voters for i in range(5)]  # 5 taps each, cap 3
    conns = [await connect(stores.database_url) for _ in range(8)]
    try:
        results = await asyncio.gather(*[record_votes(c, cid, batch) for c in conns])
        rows = await conns[0].fetchval("SELECT count(*) FROM votes WHERE contest_id=$1", cid)
        used = await conns[0].fetch("SELECT votes_used FROM voters WHERE contest_id=$1", cid)
    finally:
        for conn in conns:
            await conn.close()
    assert rows == 50 * 3
    assert {r["votes_used"] for r in used} == {3}
    accepted = [sum(d.outcome == "accepted" for d in decisions) for decisions in results]
    assert sum(accepted) == 150
    for decisions in results:
        assert {d.outcome for d in decisions} <= {"accepted", "duplicate", "vote_cap_reached"}


async def test_the_duplicate_check_probes_keys_instead_of_scanning_an_unanalyzed_ledger(
        stores: Stores, live_server: LiveServer, api: object) -> None:
    """A show's ledger partitions fill faster than autovacuum analyzes them.

    Planned against "a few rows", a set-based duplicate check scanned the whole contest
    partition for every batch (0005), so batches slowed down as the show went on. The
    check must reach the ledger through primary-key probes only, whatever the statistics.
    """
    cid = live_server.new_contest(vote_cap=20)
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    conn = await connect(stores.database_url)
    plans: list[str] = []
    try:
        filler = _fresh_votes(cid, 3000)
        await record_votes(conn, cid, filler)
        for _ in range(6):  # past PL/pgSQL's switch to a cached generic plan
            await record_votes(conn, cid, filler[:40] + _fresh_votes(cid, 4))
        await conn.execute("LOAD 'auto_explain'")
        await conn.execute("SET auto_explain.log_min_duration = 0; "
                           "SET auto_explain.log_nested_statements = on; "
                           "SET client_min_messages = log")
        conn.add_log_listener(lambda _conn, message: plans.append(message.message))
        decisions = await record_votes(conn, cid, filler[:40] + _fresh_votes(cid, 4))
    finally:
        await conn.close()
    assert [d.outcome for d in decisions] == ["duplicate"] * 40 + ["accepted"] * 4
    ledger_scans = [line.strip() for plan in plans for line in plan.splitlines()
                    if " on votes_" in line and "Insert" not in line]
    assert ledger_scans, plans
    assert all(scan.startswith("->  Index Scan using") for scan in ledger_scans), ledger_scans


def _fresh_votes(cid: str, count: int) -> list[PendingVote]:
    return [PendingVote(cid, os.urandom(32), os.urandom(32), "KZ", "UZ", "app")
            for _ in range(count)]
