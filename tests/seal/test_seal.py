"""Sealing a contest's ledger: the signed root, where it shows, what it freezes."""

from __future__ import annotations

import asyncio
import hashlib
import re

import asyncpg
import httpx
import pytest

from service.seal.repository import COUNT_LOCK, COUNT_UNLOCK
from service.stores.postgres import connect
from service.verify.statement import SealStatement
from tests.conftest import LiveServer, Stores
from tests.seal.show import ODD_CHANNEL, run_show, sealed
from tests.service.helpers import open_window


async def test_closing_the_window_with_the_jury_locked_seals_and_the_root_is_shown(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    show = await run_show(api, live_server)
    seal = await sealed(api, show.cid)
    assert seal["records"] == seal["votes"] + seal["ballots"] == 5 + 60 + 5
    assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4}){3}", seal["fingerprint"])
    assert seal["root"].startswith(seal["fingerprint"].replace("-", ""))
    contest = (await api.get(f"/api/v1/contests/{show.cid}")).json()
    assert contest["seal_public_key"] == seal["public_key"]
    results = (await api.get(f"/api/v1/contests/{show.cid}/results",
                             params={"source": "ledger"})).json()
    assert results["seal"]["fingerprint"] == seal["fingerprint"]
    statement = seal["statement"].splitlines()
    assert statement[0] == "silkvote-seal/1" and f"root {seal['root']}" in statement


async def test_a_sealed_contest_stays_closed_and_a_second_seal_returns_the_first(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    show = await run_show(api, live_server, batch=8)
    first = await sealed(api, show.cid)
    r = await api.post(f"/api/v1/contests/{show.cid}/window", json={"state": "open"},
                       headers=live_server.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "sealed"
    again = await asyncio.gather(*[api.post(f"/api/v1/contests/{show.cid}/seal",
                                            headers=live_server.admin) for _ in range(2)])
    assert {r.json()["signature"] for r in again} == {first["signature"]}


async def test_the_ledger_cannot_be_sealed_while_voting_is_open_or_the_jury_unlocked(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest(jury_size=3, jury_min_valid=2)
    await open_window(api, live_server, cid)
    r = await api.post(f"/api/v1/contests/{cid}/seal", headers=live_server.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "window_open"
    await open_window(api, live_server, cid, "closed")
    r = await api.post(f"/api/v1/contests/{cid}/seal", headers=live_server.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "jury_not_locked"
    r = await api.get(f"/api/v1/contests/{cid}/seal")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_sealed"


async def test_the_records_postgresql_writes_are_the_canonical_lines(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    """The SQL that formats records and Python's definition give the same bytes, even
    for a channel with a backslash and a space in it."""
    from service.seal.chunks import LineSplitter
    from service.seal.repository import stream_records
    from service.verify.records import encode, parse

    show = await run_show(api, live_server, batch=12)
    lines: list[bytes] = []

    async def keep(batch: list[bytes]) -> None:
        lines.extend(batch)

    splitter = LineSplitter(keep)
    async with ledger.transaction():
        await stream_records(ledger, show.cid, splitter.feed)
    await splitter.finish()
    assert len(lines) == 5 + 12 + 5
    assert all(encode(parse(line)) == line for line in lines)
    channels = {parse(line).channel for line in lines if line.startswith(b"v")}
    assert channels == {"app", ODD_CHANNEL}


async def test_a_void_after_the_seal_is_refused(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    if not await ledger.fetchval("SELECT to_regclass('voids') IS NOT NULL"):
        pytest.skip("voids (migrations/0009) are not in this schema")
    show = await run_show(api, live_server, batch=4)
    with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError, match="sealed"):
        await ledger.execute(
            "INSERT INTO voids (id, contest_id, rule, reason, actor) "
            "VALUES ('void-late', $1, '{}', 'too late', 'admin')", show.cid)


def test_the_statement_in_the_api_is_the_one_signed() -> None:
    assert "sealed_at" in SealStatement.__struct_fields__


async def test_a_receipt_returns_the_votes_sealed_record_and_a_proof_that_holds(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    from tests.verify.test_merkle import rfc9162_verify_inclusion

    show = await run_show(api, live_server, seal=False, batch=4)
    receipt = show.receipts[0]
    assert len(receipt) == 22
    r = await api.get(f"/api/v1/contests/{show.cid}/receipts/{receipt}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_sealed"
    await open_window(api, live_server, show.cid, "closed")
    seal = await sealed(api, show.cid)
    r = await api.get(f"/api/v1/contests/{show.cid}/receipts/{receipt}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["vote"]["voting_country"] == "KZ" and body["vote"]["entry"] == "UZ"
    assert body["seal"]["root"] == seal["root"]
    leaf = hashlib.sha256(b"\x00" + body["record"].encode()).digest()
    assert rfc9162_verify_inclusion(body["leaf_index"], body["tree_size"], leaf,
                                    [bytes.fromhex(p) for p in body["proof"]],
                                    bytes.fromhex(seal["root"]))
    unknown = await api.get(f"/api/v1/contests/{show.cid}/receipts/{'A' * 22}")
    assert unknown.status_code == 404
    malformed = await api.get(f"/api/v1/contests/{show.cid}/receipts/not-a-receipt")
    assert malformed.status_code == 404


async def test_a_write_to_the_contest_as_the_seal_takes_its_snapshot_does_not_stop_it(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection,
        stores: Stores) -> None:
    """The close seals in the background while the producer's reveal steps write the
    contest row the seal locks as it takes its snapshot. A write in flight at that
    instant makes PostgreSQL refuse the snapshot (a serialization failure); the seal must
    be taken again, not left undone. The instant is made here, not waited for: the count
    lock holds the seal back while a transaction writes the row, and that write commits
    once the seal waits on it."""
    from tests.harness.waiting import eventually
    from tests.service.helpers import aggregator_headers

    cid = live_server.new_contest(jury_size=0, jury_min_valid=0,
                                  voting_countries=["KZ", "UZ", "WW"])
    await open_window(api, live_server, cid)
    votes = [{"id": f"b{i}", "voter": f"+7{i}", "country": ["KZ", "UZ", "WW"][i % 3],
              "entry": ["KR", "AZ", "GE", "MN"][i % 4]} for i in range(12)]
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                       headers=await aggregator_headers(api, live_server, cid))
    assert r.status_code == 200, r.text

    async def waiting_on_a_lock(fragment: str) -> int:
        found: int = await ledger.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type IN "
            "('Lock', 'LWLock') AND wait_event IN ('advisory', 'tuple', 'transactionid') "
            "AND position($1 in query) > 0", fragment)
        return found

    writer = await connect(stores.database_url)
    try:
        await ledger.execute(COUNT_LOCK, cid)
        await open_window(api, live_server, cid, "closed")  # the seal starts, and waits
        await eventually(lambda: waiting_on_a_lock("silkvote-count"), 10,
                         "the seal to wait for the count lock", ok=bool)
        write = writer.transaction()
        await write.start()
        await writer.execute("UPDATE contests SET revealed = revealed WHERE id = $1", cid)
        await ledger.execute(COUNT_UNLOCK, cid)
        await eventually(lambda: waiting_on_a_lock("FOR SHARE"), 10,
                         "the seal's snapshot to wait for the write", ok=bool)
        await write.commit()
    finally:
        await writer.close()
    assert (await sealed(api, cid))["votes"] == len(votes)
