"""Live leaderboard and reveal: snapshots, coalesced updates, gap-free seq, reveal order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

import httpx
import websockets

from tests.conftest import LiveServer
from tests.harness.waiting import eventually
from tests.service.helpers import open_window, voter_headers


def ws_url(server: LiveServer, cid: str, ticket: str | None = None) -> str:
    """The leaderboard socket's URL; a `ticket` from POST /api/v1/ws-tickets opens the
    view of the token it was bought with (tokens never go into a URL)."""
    url = server.base_url.replace("http", "ws", 1) + f"/ws/contests/{cid}/leaderboard"
    return url + (f"?ticket={ticket}" if ticket else "")


async def vote(api: httpx.AsyncClient, cid: str, voter: dict[str, str], entry: str) -> None:
    r = await api.post(f"/api/v1/contests/{cid}/votes",
                       json={"entry": entry, "key": uuid.uuid4().hex}, headers=voter)
    assert r.status_code == 201, r.text


async def next_message(socket: Any, timeout: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(socket.recv(), timeout)))


async def test_a_client_gets_a_snapshot_then_an_update_when_a_vote_lands(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+1", "KZ")
    async with websockets.connect(ws_url(live_server, cid)) as socket:
        snapshot = await next_message(socket)
        assert snapshot["type"] == "snapshot"
        assert snapshot["results"]["window"] == "open"
        await vote(api, cid, voter, "UZ")
        update = await next_message(socket)
        while update["results"]["votes"] != {"KZ": {"UZ": 1}}:
            update = await next_message(socket)
        assert update["type"] == "update" and update["seq"] > snapshot["seq"]
        assert update["results"]["scoreboard"][0]["country"] == "UZ"


async def test_the_leaderboard_is_not_compressed_per_client(live_server: LiveServer) -> None:
    """Browsers offer permessage-deflate; accepting it would cost a zlib context per
    client and a compression per client per tick, for messages of a few KB."""
    cid = live_server.new_contest()
    async with websockets.connect(ws_url(live_server, cid), compression="deflate") as socket:
        assert (await next_message(socket))["type"] == "snapshot"
        assert "Sec-WebSocket-Extensions" not in socket.response.headers


async def test_1000_clients_receive_the_same_seq_sequence_without_gaps(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+2", "KZ")
    sockets = []
    for batch in range(10):
        sockets += await asyncio.gather(*[websockets.connect(ws_url(live_server, cid),
                                                             max_queue=None)
                                          for _ in range(100)])
        del batch
    firsts = [await next_message(s) for s in sockets]
    base = max(m["seq"] for m in firsts)

    def kz_votes(message: dict[str, Any]) -> int:
        return sum(message["results"]["votes"].get("KZ", {}).values())

    watched = [firsts[0]]  # what the first client received while the votes went in

    async def first_client_latest() -> int:
        with contextlib.suppress(TimeoutError):
            watched.append(await next_message(sockets[0], timeout=0.1))
        return kz_votes(watched[-1])

    for n, entry in enumerate(("UZ", "CN", "MN"), start=1):
        await vote(api, cid, voter, entry)
        # each vote in its own update, so the sequences have steps to check for gaps: the
        # next vote waits until the update with this one has gone out (to the first client)
        await eventually(first_client_latest, 15, f"the first client to receive vote {n}",
                         ok=lambda seen, n=n: seen >= n)

    async def seqs_until_three_votes(socket: Any, received: list[dict[str, Any]]) -> list[int]:
        seen, message = [m["seq"] for m in received], received[-1]
        while kz_votes(message) < 3:
            message = await next_message(socket, timeout=15)
            seen.append(message["seq"])
        return seen

    sequences = await asyncio.gather(*[seqs_until_three_votes(s, [f])
                                       for s, f in zip(sockets[1:], firsts[1:], strict=True)],
                                     seqs_until_three_votes(sockets[0], watched))
    for seen in sequences:
        assert seen == list(range(seen[0], seen[0] + len(seen))), seen
    assert len({seen[-1] for seen in sequences}) == 1
    assert all(seen[-1] > base for seen in sequences)
    await asyncio.gather(*[s.close() for s in sockets])


async def test_the_reveal_steps_through_the_frozen_result_in_order(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    for i, (country, entry) in enumerate([("KZ", "UZ"), ("UZ", "KZ"), ("CN", "UZ")]):
        await vote(api, cid, await voter_headers(api, live_server, cid, f"+5{i}", country), entry)
    r = await api.post(f"/api/v1/contests/{cid}/reveal/next", headers=live_server.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "window_open"
    await open_window(api, live_server, cid, "closed")
    public_url = f"/api/v1/contests/{cid}/results"
    steps = []
    async with websockets.connect(ws_url(live_server, cid)) as socket:
        await next_message(socket)
        while True:
            r = await api.post(f"/api/v1/contests/{cid}/reveal/next", headers=live_server.admin)
            if r.status_code == 409:
                assert r.json()["error"]["code"] == "reveal_complete"
                break
            steps.append(r.json()["step"])
            public = (await api.get(public_url)).json()
            assert public["revealed"] == len(steps)
            assert public["reveal"] == steps
        message = await next_message(socket)
        while message["results"]["phase"] != "final":
            message = await next_message(socket)
    assert [s["step"] for s in steps] == list(range(1, len(steps) + 1))
    final = (await api.get(public_url)).json()
    assert final["phase"] == "final" and final["scoreboard"][0]["country"] == "UZ"
    reveal = (await api.get(f"/api/v1/contests/{cid}/reveal")).json()
    assert reveal["revealed"] == reveal["total"] == len(steps)


async def test_during_the_reveal_the_public_sees_only_announced_steps(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    await vote(api, cid, await voter_headers(api, live_server, cid, "+61", "KZ"), "UZ")
    await vote(api, cid, await voter_headers(api, live_server, cid, "+62", "UZ"), "CN")
    await open_window(api, live_server, cid, "closed")
    await api.post(f"/api/v1/contests/{cid}/reveal/next", headers=live_server.admin)
    public = (await api.get(f"/api/v1/contests/{cid}/results")).json()
    full = (await api.get(f"/api/v1/contests/{cid}/results", params={"view": "full"},
                          headers=live_server.admin)).json()
    assert public["phase"] == "reveal" and public["votes"] == {}
    assert len(public["reveal"]) == 1 < len(full["reveal"]) == full["reveal_total"]
    assert sum(int(line["total"]) for line in public["scoreboard"]) == sum(
        int(p) for p in public["reveal"][0]["points"].values())
