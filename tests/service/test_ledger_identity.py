"""The ledger function binds a voter to one country, keeps receipts, and closes on time.

These drive `record_votes` directly, from several connections at once where the rule
is about concurrency: the decisions are the ledger's, so they hold whatever Redis or a
service process remembers.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.intake.ledger import PendingVote, app_dedupe_key, record_votes
from service.stores.postgres import connect
from tests.conftest import LiveServer, Stores
from tests.harness.waiting import eventually
from tests.service.helpers import open_window


def vote(cid: str, voter: bytes, tap: str, country: str, entry: str = "KR") -> PendingVote:
    return PendingVote(cid, app_dedupe_key(voter, tap), voter, country, entry, "app")


async def test_one_voter_from_two_countries_on_eight_connections_counts_in_one_audience(
        stores: Stores, live_server: LiveServer, api: object,
        ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest(vote_cap=20)
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    voters = [os.urandom(32) for _ in range(20)]
    batches = [[vote(cid, v, f"{c}{i}", c) for v in voters for i in range(2)]
               for c in ["AZ", "UZ"] * 4]
    conns = [await connect(stores.database_url) for _ in batches]
    try:
        results = await asyncio.gather(*[record_votes(conn, cid, batch)
                                         for conn, batch in zip(conns, batches, strict=True)])
    finally:
        for conn in conns:
            await conn.close()
    rows = await ledger.fetch("SELECT voter_hash, array_agg(DISTINCT voting_country) AS c, "
                              "count(*) AS n FROM votes WHERE contest_id = $1 "
                              "GROUP BY voter_hash", cid)
    assert len(rows) == 20
    assert all(len(row["c"]) == 1 and row["n"] == 2 for row in rows)
    bound = {bytes(r["voter_hash"]): r["country"] for r in await ledger.fetch(
        "SELECT voter_hash, country FROM voters WHERE contest_id = $1", cid)}
    for batch, decisions in zip(batches, results, strict=True):
        for pending, decision in zip(batch, decisions, strict=True):
            if pending.country != bound[pending.voter_hash]:
                assert decision.outcome == "country_mismatch"
            else:
                assert decision.outcome in ("accepted", "duplicate")


async def test_in_one_batch_a_voters_first_country_binds_it_and_a_bound_country_wins(
        live_server: LiveServer, api: object, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest(vote_cap=5)
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    fresh, known = os.urandom(32), os.urandom(32)
    assert [d.outcome for d in await record_votes(ledger, cid, [vote(cid, known, "0", "AZ")])
            ] == ["accepted"]
    batch = [vote(cid, fresh, "1", "UZ"), vote(cid, fresh, "2", "AZ"),
             vote(cid, fresh, "3", "UZ"),
             vote(cid, known, "4", "UZ"), vote(cid, known, "5", "AZ")]
    decisions = await record_votes(ledger, cid, batch)
    assert [d.outcome for d in decisions] == [
        "accepted", "country_mismatch", "accepted", "country_mismatch", "accepted"]
    assert [d.receipt is None for d in decisions] == [False, True, False, True, False]
    used = {bytes(r["voter_hash"]): (r["country"], r["votes_used"]) for r in await ledger.fetch(
        "SELECT voter_hash, country, votes_used FROM voters WHERE contest_id = $1", cid)}
    assert used == {fresh: ("UZ", 2), known: ("AZ", 2)}


async def test_a_vote_keeps_its_receipt_and_every_retry_answers_the_same_one(
        live_server: LiveServer, api: object, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest(vote_cap=5)
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    voter = os.urandom(32)
    taps = [vote(cid, voter, str(i), "KZ") for i in range(3)]
    first = await record_votes(ledger, cid, taps + taps[:1])  # a repeat inside the batch
    again = await record_votes(ledger, cid, taps)
    receipts = [d.receipt for d in first]
    assert all(r is not None and len(r) == 16 for r in receipts)
    assert len(set(receipts[:3])) == 3 and receipts[3] == receipts[0]
    assert [d.receipt for d in again] == receipts[:3]
    stored = {bytes(r["dedupe_key"]): bytes(r["receipt"]) for r in await ledger.fetch(
        "SELECT dedupe_key, receipt FROM votes WHERE contest_id = $1", cid)}
    assert stored == {t.dedupe_key: r for t, r in zip(taps, receipts, strict=False)}


async def test_channel_and_hashes_are_stored_with_each_vote(
        live_server: LiveServer, api: object, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    voter = os.urandom(32)
    net, token = os.urandom(16), os.urandom(16)
    sms = PendingVote(cid, os.urandom(32), voter, "KZ", "UZ", "agg-1", "sms")
    app = PendingVote(cid, os.urandom(32), voter, "KZ", "CN", "app", "app", net, token)
    await record_votes(ledger, cid, [sms, app])
    rows = {r["entry"]: (r["channel"], r["net_hash"], r["token_hash"]) for r in
            await ledger.fetch("SELECT entry, channel, net_hash, token_hash FROM votes "
                               "WHERE contest_id = $1", cid)}
    assert rows == {"UZ": ("sms", None, None), "CN": ("app", net, token)}


async def test_a_batch_that_began_before_closes_at_but_writes_after_it_commits_nothing(
        stores: Stores, live_server: LiveServer, api: object,
        ledger: asyncpg.Connection) -> None:
    """The window's closing time is checked as the batch's last step, not only at its
    start: a batch held up (here by a lock on its voter's row) past `closes_at` rolls
    back, and its votes are answered `window_closed`."""
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    voter = os.urandom(32)
    assert (await record_votes(ledger, cid, [vote(cid, voter, "before", "KZ")]))[0].outcome \
        == "accepted"
    head = await ledger.fetchval("SELECT batch FROM ledger_heads WHERE contest_id = $1", cid)
    await ledger.execute("UPDATE contests SET closes_at = clock_timestamp() + interval '1 s' "
                         "WHERE id = $1", cid)
    holder, writer = await connect(stores.database_url), await connect(stores.database_url)
    try:
        await holder.execute("BEGIN")
        await holder.execute("SELECT 1 FROM voters WHERE contest_id = $1 AND voter_hash = $2 "
                             "FOR UPDATE", cid, voter)
        racing = asyncio.ensure_future(record_votes(writer, cid, [
            vote(cid, voter, "racing", "KZ"), vote(cid, os.urandom(32), "other", "UZ")]))
        writer_pid = writer.get_server_pid()
        await eventually(lambda: ledger.fetchval(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", writer_pid),
            10, "the batch to wait for the voter row", ok=lambda kind: kind == "Lock")
        await eventually(lambda: ledger.fetchval(
            "SELECT clock_timestamp() > closes_at FROM contests WHERE id = $1", cid),
            10, "closes_at to pass")
        await holder.execute("ROLLBACK")
        decisions = await asyncio.wait_for(racing, 10)
    finally:
        await holder.close()
        await writer.close()
    assert [d.outcome for d in decisions] == ["window_closed", "window_closed"]
    assert await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", cid) == 1
    assert await ledger.fetchval("SELECT batch FROM ledger_heads WHERE contest_id = $1",
                                 cid) == head
    late = await record_votes(ledger, cid, [vote(cid, voter, "late", "KZ")])
    assert [d.outcome for d in late] == ["window_closed"]


async def test_a_batch_naming_a_revoked_key_is_refused_by_the_ledger(
        live_server: LiveServer, api: object, ledger: asyncpg.Connection) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    await ledger.execute("INSERT INTO aggregator_keys (id, contest_id, name, key_hash) "
                         "VALUES ($1, $2, 'telco', $3)", f"agg-{cid}", cid, os.urandom(32))
    batch = [PendingVote(cid, os.urandom(32), os.urandom(32), "KZ", "UZ", f"agg-{cid}", "telco")]
    assert (await record_votes(ledger, cid, batch, aggregator=f"agg-{cid}"))[0].outcome \
        == "accepted"
    await ledger.execute("UPDATE aggregator_keys SET revoked_at = now() WHERE id = $1",
                         f"agg-{cid}")
    batch = [PendingVote(cid, os.urandom(32), os.urandom(32), "KZ", "UZ", f"agg-{cid}", "telco")]
    assert (await record_votes(ledger, cid, batch, aggregator=f"agg-{cid}"))[0].outcome \
        == "key_revoked"
    assert await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1", cid) == 1


async def test_revoking_a_key_waits_for_its_batch_in_flight_and_refuses_every_later_one(
        stores: Stores, live_server: LiveServer, api: object,
        ledger: asyncpg.Connection) -> None:
    """The batch holds its key's row while it writes, so the revocation (an UPDATE of
    that row) is acknowledged only once the batch has committed: no batch with the key
    commits after the revocation returns."""
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)  # type: ignore[arg-type]
    key = f"agg-{cid}"
    await ledger.execute("INSERT INTO aggregator_keys (id, contest_id, name, key_hash) "
                         "VALUES ($1, $2, 'telco', $3)", key, cid, os.urandom(32))
    voter = os.urandom(32)
    await record_votes(ledger, cid, [vote(cid, voter, "first", "KZ")])
    holder, writer, revoker = [await connect(stores.database_url) for _ in range(3)]
    try:
        await holder.execute("BEGIN")
        await holder.execute("SELECT 1 FROM voters WHERE contest_id = $1 AND voter_hash = $2 "
                             "FOR UPDATE", cid, voter)
        in_flight = asyncio.ensure_future(record_votes(writer, cid, [
            PendingVote(cid, os.urandom(32), voter, "KZ", "UZ", key, "telco")], aggregator=key))
        await eventually(lambda: ledger.fetchval(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1",
            writer.get_server_pid()), 10, "the batch to wait", ok=lambda kind: kind == "Lock")
        revoking = asyncio.ensure_future(revoker.execute(
            "UPDATE aggregator_keys SET revoked_at = now() WHERE id = $1", key))
        await eventually(lambda: ledger.fetchval(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1",
            revoker.get_server_pid()), 10, "the revocation to wait for the batch",
            ok=lambda kind: kind == "Lock")
        await holder.execute("ROLLBACK")
        assert [d.outcome for d in await asyncio.wait_for(in_flight, 10)] == ["accepted"]
        await asyncio.wait_for(revoking, 10)
        late = await record_votes(writer, cid, [
            PendingVote(cid, os.urandom(32), voter, "KZ", "CN", key, "telco")], aggregator=key)
    finally:
        for conn in (holder, writer, revoker):
            await conn.close()
    assert [d.outcome for d in late] == ["key_revoked"]


Vote = tuple[int, int, str]  # voter, tap, country
VOTER_IDS = [os.urandom(8) for _ in range(3)]
batches_of_votes = st.lists(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3),
                                               st.sampled_from(["AZ", "UZ"])),
                                     min_size=1, max_size=6), min_size=1, max_size=3)
_shared_contest: dict[str, str] = {}


def expected_outcomes(batches: list[list[Vote]], cap: int) -> list[list[str]]:
    """The rule in plain Python: a voter's country is the one of its first vote in the
    ledger, else of its first new vote in the batch (by position); its votes from
    another country are mismatches; the rest count up to the cap; a key counts once."""
    bound: dict[int, str] = {}
    used: dict[int, int] = {}
    stored: set[tuple[int, int]] = set()
    answers = []
    for batch in batches:
        fresh = {(v, t) for v, t, _ in batch} - stored
        for v, t, c in batch:
            if (v, t) in fresh and v not in bound:
                bound[v] = c
        first: dict[tuple[int, int], str] = {}
        outcome: list[str] = []
        for v, t, c in batch:
            if (v, t) in stored and (v, t) not in fresh:
                outcome.append("duplicate")
            elif (v, t) in first:
                outcome.append("duplicate" if first[(v, t)] == "accepted" else first[(v, t)])
            elif c != bound[v]:
                first[(v, t)] = "country_mismatch"
                outcome.append("country_mismatch")
            elif used.get(v, 0) < cap:
                used[v] = used.get(v, 0) + 1
                stored.add((v, t))
                first[(v, t)] = "accepted"
                outcome.append("accepted")
            else:
                first[(v, t)] = "vote_cap_reached"
                outcome.append("vote_cap_reached")
        answers.append(outcome)
    return answers


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(batches=batches_of_votes)
async def test_any_sequence_of_batches_decides_country_cap_and_duplicates_as_the_rule_says(
        live_server: LiveServer, api: object, ledger: asyncpg.Connection,
        batches: list[list[Vote]]) -> None:
    if "cid" not in _shared_contest:  # one contest for every example: voters are fresh
        _shared_contest["cid"] = live_server.new_contest(vote_cap=2)
        await open_window(api, live_server, _shared_contest["cid"])  # type: ignore[arg-type]
    cid, run = _shared_contest["cid"], os.urandom(8)
    voters = [run + v for v in VOTER_IDS]
    seen = []
    for batch in batches:
        decisions = await record_votes(ledger, cid, [
            vote(cid, voters[v] + bytes(16), f"{t}", c) for v, t, c in batch])
        seen.append([d.outcome for d in decisions])
    assert seen == expected_outcomes(batches, cap=2)
    rows = await ledger.fetch("SELECT v.voter_hash, v.voting_country, o.country FROM votes v "
                              "JOIN voters o USING (contest_id, voter_hash) "
                              "WHERE v.contest_id = $1 AND v.voter_hash = ANY($2::bytea[])",
                              cid, [v + bytes(16) for v in voters])
    assert all(row["voting_country"] == row["country"] for row in rows)
