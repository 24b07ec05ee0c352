"""The ledger function itself, driven from several connections at once."""

from __future__ import annotations

import asyncio
import os

from service.db import connect
from service.intake.ledger import PendingVote, app_dedupe_key, record_votes
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
