"""Results visibility (issue 15, hole 6): standings and counts stay off the public
results and the public websocket while voting is open, unless the contest says `live`;
the producer and read tokens see everything."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import LiveServer, contest_body
from tests.harness.waiting import eventually
from tests.service.helpers import open_window, voter_headers


def ws_url(server: LiveServer, cid: str) -> str:
    return server.base_url.replace("http", "ws", 1) + f"/ws/contests/{cid}/leaderboard"


async def snapshot(server: LiveServer, cid: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with websockets.connect(ws_url(server, cid), additional_headers=headers) as socket:
        message = json.loads(await asyncio.wait_for(socket.recv(), 5))
    assert message["type"] == "snapshot"
    return dict(message["results"])


async def voted_contest(api: httpx.AsyncClient, server: LiveServer, visibility: str | None,
                        votes: int = 3) -> str:
    """An open contest (visibility as given, or the default) with `votes` KZ votes for UZ."""
    cid = (_default_contest(server) if visibility is None
           else server.new_contest(results_visibility=visibility))
    await open_window(api, server, cid)
    voter = await voter_headers(api, server, cid, f"fan-{uuid.uuid4().hex}", "KZ")
    for _ in range(votes):
        r = await api.post(f"/api/v1/contests/{cid}/votes",
                           json={"entry": "UZ", "key": uuid.uuid4().hex}, headers=voter)
        assert r.status_code == 201, r.text
    return cid


def _default_contest(server: LiveServer) -> str:
    """A contest created without `results_visibility`: the API's default applies."""
    body = contest_body()
    del body["results_visibility"]
    return str(server.call("POST", "/api/v1/contests", body)["id"])


def assert_hidden(results: dict[str, Any]) -> None:
    assert results["standings_hidden"] is True
    assert results["votes"] == {} and results["scoreboard"] == [] and results["sets"] == []
    assert results["explanations"] == {} and results["reveal"] == []
    assert results["reveal_total"] == 0


async def read_token(api: httpx.AsyncClient, server: LiveServer, cid: str) -> tuple[str, str]:
    r = await api.post(f"/api/v1/contests/{cid}/read-tokens", json={"label": "vMix A"},
                       headers=server.admin)
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["token"]


async def test_after_close_is_the_default_and_hides_counts_while_the_window_is_open(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await voted_contest(api, live_server, None)
    assert (await api.get(f"/api/v1/contests/{cid}")).json()["results_visibility"] == \
        "after_close"
    for source in ("live", "ledger"):
        r = await api.get(f"/api/v1/contests/{cid}/results", params={"source": source})
        assert r.status_code == 200
        assert_hidden(r.json())
        assert "UZ" not in r.text.replace('"contest"', "")  # no count, no standing
    assert_hidden(await snapshot(live_server, cid))


async def test_after_close_shows_the_standings_once_the_window_closes(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await voted_contest(api, live_server, "after_close")
    await open_window(api, live_server, cid, "closed")
    results = (await api.get(f"/api/v1/contests/{cid}/results")).json()
    assert results["standings_hidden"] is False
    assert results["votes"] == {"KZ": {"UZ": 3}}
    assert (await snapshot(live_server, cid))["votes"] == {"KZ": {"UZ": 3}}


async def test_the_admin_and_a_read_token_see_every_count_while_the_window_is_open(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await voted_contest(api, live_server, "after_close")
    _, token = await read_token(api, live_server, cid)
    for bearer in (live_server.admin_token, token):
        r = await api.get(f"/api/v1/contests/{cid}/results", params={"view": "full"},
                          headers={"Authorization": f"Bearer {bearer}"})
        assert r.status_code == 200, r.text
        assert r.json()["votes"] == {"KZ": {"UZ": 3}} and r.json()["full"] is True
        full = await eventually(lambda b=bearer: snapshot(live_server, cid, b), 10,
                                "the full websocket view to count the votes",
                                ok=lambda view: view["votes"] == {"KZ": {"UZ": 3}})
        assert full["full"] is True and full["standings_hidden"] is False


async def test_a_read_token_reads_only_its_own_contest_and_stops_when_revoked(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await voted_contest(api, live_server, "after_close")
    other = await voted_contest(api, live_server, "after_close", votes=1)
    token_id, token = await read_token(api, live_server, cid)
    bearer = {"Authorization": f"Bearer {token}"}
    refused = await api.get(f"/api/v1/contests/{other}/results", params={"view": "full"},
                            headers=bearer)
    assert refused.status_code == 401
    assert_hidden(await snapshot(live_server, other, token))  # public view there
    r = await api.delete(f"/api/v1/contests/{cid}/read-tokens/{token_id}",
                         headers=live_server.admin)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None

    async def full_view_status() -> int:
        return (await api.get(f"/api/v1/contests/{cid}/results", params={"view": "full"},
                              headers=bearer)).status_code

    await eventually(full_view_status, 5, "the revoked token to be refused",
                     ok=lambda status: status == 401)
    listed = (await api.get(f"/api/v1/contests/{cid}/read-tokens",
                            headers=live_server.admin)).json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]


async def test_reveal_visibility_shows_only_what_the_reveal_has_announced(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await voted_contest(api, live_server, "reveal")
    await open_window(api, live_server, cid, "closed")
    assert_hidden((await api.get(f"/api/v1/contests/{cid}/results")).json())
    assert_hidden(await snapshot(live_server, cid))
    r = await api.post(f"/api/v1/contests/{cid}/reveal/next", headers=live_server.admin)
    assert r.status_code == 200, r.text
    step = r.json()["step"]
    results = (await api.get(f"/api/v1/contests/{cid}/results")).json()
    assert results["standings_hidden"] is False and results["phase"] == "reveal"
    assert results["votes"] == {} and results["reveal"] == [step]
    announced = {c for c, p in step["points"].items() if p}
    assert {line["country"] for line in results["scoreboard"] if line["total"] != 0} == \
        announced


async def test_the_producer_changes_visibility_and_the_public_view_follows(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await voted_contest(api, live_server, "after_close")
    assert_hidden(await snapshot(live_server, cid))
    r = await api.post(f"/api/v1/contests/{cid}/visibility",
                       json={"results_visibility": "live"}, headers=live_server.admin)
    assert r.status_code == 200 and r.json() == {"results_visibility": "live"}
    results = (await api.get(f"/api/v1/contests/{cid}/results")).json()
    assert results["votes"] == {"KZ": {"UZ": 3}}
    refused = await api.post(f"/api/v1/contests/{cid}/visibility",
                             json={"results_visibility": "secret"}, headers=live_server.admin)
    assert refused.status_code == 400
    anonymous = await api.post(f"/api/v1/contests/{cid}/visibility",
                               json={"results_visibility": "live"})
    assert anonymous.status_code == 401


@pytest.mark.parametrize("visibility", ["live", "after_close", "reveal"])
async def test_visibility_is_set_at_creation(live_server: LiveServer,
                                             api: httpx.AsyncClient, visibility: str) -> None:
    cid = live_server.new_contest(results_visibility=visibility)
    contest = (await api.get(f"/api/v1/contests/{cid}")).json()
    assert contest["results_visibility"] == visibility


async def test_a_read_token_buys_a_websocket_ticket_for_its_own_contest_only(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = await voted_contest(api, live_server, "after_close")
    other = live_server.new_contest()
    _, token = await read_token(api, live_server, cid)

    async def ticket() -> str:
        r = await api.post("/api/v1/ws-tickets", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        return str(r.json()["ticket"])

    url = ws_url(live_server, cid) + f"?ticket={await ticket()}"
    async with websockets.connect(url) as socket:
        results = json.loads(await asyncio.wait_for(socket.recv(), 5))["results"]
    assert results["full"] is True and results["votes"] == {"KZ": {"UZ": 3}}
    async with websockets.connect(ws_url(live_server, other) + f"?ticket={await ticket()}"
                                  ) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_after_close_shows_the_standings_when_the_scheduled_close_passes(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    """No producer action: the ledger stops at `closes_at`, and the public board opens
    then, on the results and on a websocket that is already connected."""
    closes = datetime.now(UTC) + timedelta(seconds=4)
    cid = live_server.new_contest(results_visibility="after_close",
                                  closes_at=closes.isoformat())
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, f"fan-{uuid.uuid4().hex}", "KZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes",
                       json={"entry": "UZ", "key": uuid.uuid4().hex}, headers=voter)
    assert r.status_code == 201, r.text
    async with websockets.connect(ws_url(live_server, cid)) as socket:
        first = json.loads(await asyncio.wait_for(socket.recv(), 5))["results"]
        assert_hidden(first)
        assert datetime.fromisoformat(first["closes_at"]) == closes
        update = json.loads(await asyncio.wait_for(socket.recv(), 15))["results"]
    assert update["standings_hidden"] is False and update["votes"] == {"KZ": {"UZ": 1}}
    assert datetime.now(UTC) >= closes
    results = (await api.get(f"/api/v1/contests/{cid}/results")).json()
    assert results["votes"] == {"KZ": {"UZ": 1}}


async def test_a_hidden_board_sends_the_public_no_update_until_its_standings_open(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    """A vote changes the full view only: the public socket hears nothing of it (not even
    that something changed), and its next update, one `seq` on, is the board opening."""
    cid = live_server.new_contest(results_visibility="after_close")
    await open_window(api, live_server, cid)
    admin = {"Authorization": f"Bearer {live_server.admin_token}"}
    async with websockets.connect(ws_url(live_server, cid)) as public, \
            websockets.connect(ws_url(live_server, cid), additional_headers=admin) as full:
        first = json.loads(await asyncio.wait_for(public.recv(), 5))
        assert_hidden(first["results"])
        assert json.loads(await asyncio.wait_for(full.recv(), 5))["results"]["votes"] == {}
        voter = await voter_headers(api, live_server, cid, f"fan-{uuid.uuid4().hex}", "KZ")
        r = await api.post(f"/api/v1/contests/{cid}/votes",
                           json={"entry": "UZ", "key": uuid.uuid4().hex}, headers=voter)
        assert r.status_code == 201, r.text
        counted = json.loads(await asyncio.wait_for(full.recv(), 10))
        assert counted["type"] == "update" and counted["results"]["votes"] == {"KZ": {"UZ": 1}}
        await open_window(api, live_server, cid, "closed")
        opened = json.loads(await asyncio.wait_for(public.recv(), 10))
    assert opened["type"] == "update" and opened["seq"] == first["seq"] + 1
    assert opened["results"]["standings_hidden"] is False
    assert opened["results"]["votes"] == {"KZ": {"UZ": 1}}
