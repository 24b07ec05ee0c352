"""The client's address: a forged X-Forwarded-For neither dodges a limit nor frames a victim.

Each test talks to a served app from its own loopback address (127.0.0.2, 127.0.0.3…:
Linux routes all of 127/8 to the loopback interface), so the server sees attacker,
victim and load balancer as the different peers they would be on a network.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, Stores, start_server
from tests.harness.nginx import Nginx, nginx_or_skip
from tests.harness.waiting import wait_until
from tests.service.helpers import open_window, room_in_this_minute, voter_headers

LOGIN_LIMIT = 5  # wrong juror codes per client address and minute
VOTE_LIMIT = 3  # single votes per client address and second (RATE_LIMIT_IP_PER_S)
ATTEMPTS = 25
LOAD_BALANCER = "127.0.0.9"
NGINX_PEER = "127.0.0.1"  # the address nginx connects to SilkVote from


def from_address(server: LiveServer, source: str) -> httpx.AsyncClient:
    """A client whose connections leave from loopback address `source`."""
    return httpx.AsyncClient(base_url=server.base_url, timeout=10,
                             transport=httpx.AsyncHTTPTransport(local_address=source))


def fresh_address() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}"


async def wrong_codes(client: httpx.AsyncClient, count: int,
                      forwarded_for: list[str] | None = None) -> list[int]:
    """The statuses of `count` logins with wrong juror codes, each with its own
    X-Forwarded-For when `forwarded_for` gives them. Every 429 says when to retry:
    by the end of the minute's window."""
    statuses = []
    for i in range(count):
        headers = {"X-Forwarded-For": forwarded_for[i]} if forwarded_for else {}
        r = await client.post("/api/v1/jury/session", json={"code": f"WRNG-{i:04d}-XX"},
                              headers=headers)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert 1 <= int(r.headers["retry-after"]) <= 60
    return statuses


@pytest.fixture(scope="module")
def direct_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[LiveServer]:
    """No TRUSTED_PROXIES: every socket peer is a client. FORWARDED_ALLOW_IPS=* (what
    the manifests once set, making uvicorn believe any peer's header) changes nothing."""
    server = start_server(stores, Path(tmp_path_factory.mktemp("direct")),
                          RATE_LIMIT_JURY_LOGIN_PER_MIN=str(LOGIN_LIMIT),
                          FORWARDED_ALLOW_IPS="*")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxied_server(stores: Stores, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[LiveServer]:
    """A load balancer on LOAD_BALANCER, trusted to append the address it saw."""
    server = start_server(stores, Path(tmp_path_factory.mktemp("proxied")),
                          RATE_LIMIT_JURY_LOGIN_PER_MIN=str(LOGIN_LIMIT),
                          RATE_LIMIT_IP_PER_S=str(VOTE_LIMIT),
                          TRUSTED_PROXIES=f"{LOAD_BALANCER}/32, 10.0.0.0/8, {NGINX_PEER}/32")
    yield server
    server.stop()


async def test_wrong_juror_codes_with_a_new_forwarded_for_each_hit_the_login_limit(
        direct_server: LiveServer) -> None:
    room_in_this_minute()
    async with from_address(direct_server, "127.0.0.2") as attacker:
        statuses = await wrong_codes(attacker, ATTEMPTS,
                                     [fresh_address() for _ in range(ATTEMPTS)])
    assert statuses == [401] * LOGIN_LIMIT + [429] * (ATTEMPTS - LOGIN_LIMIT)


async def test_a_forged_forwarded_for_cannot_lock_a_victim_out_of_the_jury_room(
        direct_server: LiveServer) -> None:
    room_in_this_minute()
    victim = "127.0.0.4"
    async with from_address(direct_server, "127.0.0.3") as attacker:
        await wrong_codes(attacker, ATTEMPTS, [victim] * ATTEMPTS)
    async with from_address(direct_server, victim) as juror:
        assert await wrong_codes(juror, 1) == [401]  # a wrong code, not locked out


async def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(
        proxied_server: LiveServer) -> None:
    """nginx's `$proxy_add_x_forwarded_for` appends the peer it saw to whatever the
    client sent: the client's own entries are on the left and are never believed."""
    room_in_this_minute()
    attacker, victim = fresh_address(), "203.0.113.7"
    async with from_address(proxied_server, LOAD_BALANCER) as balancer:
        # what the attacker forged, then what the balancer appended
        forged = [f"{victim}, {fresh_address()}, {attacker}" for _ in range(ATTEMPTS)]
        statuses = await wrong_codes(balancer, ATTEMPTS, forged)
        assert statuses == [401] * LOGIN_LIMIT + [429] * (ATTEMPTS - LOGIN_LIMIT)
        # the victim, behind the same balancer (and an internal hop it trusts), is free
        assert await wrong_codes(balancer, 1, [f"{victim}, 10.1.2.3"]) == [401]
        # and the attacker's own address stays locked, whatever it claims next
        assert await wrong_codes(balancer, 1, [f"{fresh_address()}, {attacker}"]) == [429]


async def test_a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_forwards(
        proxied_server: LiveServer) -> None:
    room_in_this_minute()
    async with from_address(proxied_server, "127.0.0.5") as attacker:
        statuses = await wrong_codes(attacker, LOGIN_LIMIT + 3,
                                     [fresh_address() for _ in range(LOGIN_LIMIT + 3)])
    assert statuses == [401] * LOGIN_LIMIT + [429] * 3


async def test_votes_behind_a_trusted_proxy_are_limited_per_client_it_saw(
        proxied_server: LiveServer) -> None:
    """Single votes take the vote lane, which answers before the middlewares: it must
    find the same client they would. Each vote here is another voter's, so only the
    per-address limit can refuse it."""
    attacker, neighbour = fresh_address(), fresh_address()
    async with from_address(proxied_server, LOAD_BALANCER) as balancer:
        cid = proxied_server.new_contest()
        await open_window(balancer, proxied_server, cid)
        voters = [await voter_headers(balancer, proxied_server, cid, f"+7701{i:04d}", "KZ")
                  for i in range(VOTE_LIMIT * 3)]

        async def vote(voter: dict[str, str], forwarded_for: str) -> int:
            r = await balancer.post(f"/api/v1/contests/{cid}/votes",
                                    json={"entry": "UZ", "key": secrets.token_hex(4)},
                                    headers={**voter, "X-Forwarded-For": forwarded_for})
            return r.status_code

        # a burst early in one second, so one fixed window holds it
        wait_until(lambda: time.time() % 1 < 0.2, 3, "the start of a second")
        burst = [await vote(voter, f"{fresh_address()}, {attacker}")
                 for voter in voters[:VOTE_LIMIT * 2]]
        neighbours = await vote(voters[-1], neighbour)
    assert burst == [201] * VOTE_LIMIT + [429] * VOTE_LIMIT  # forged entries change nothing
    assert neighbours == 201  # the next client behind the same balancer is not limited


@pytest.fixture(scope="module")
def nginx(proxied_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Nginx]:
    """The shipped deploy/nginx-cache.conf in front of the proxied server."""
    with nginx_or_skip(proxied_server.port, Path(tmp_path_factory.mktemp("nginx"))) as server:
        yield server


async def test_through_a_real_nginx_a_forged_header_neither_dodges_nor_frames(
        nginx: Nginx) -> None:
    """nginx appends the peer it saw (`$proxy_add_x_forwarded_for`); SilkVote trusts
    nginx's address only, so the attacker is the address nginx saw, whatever it wrote."""
    room_in_this_minute()
    victim = "127.0.0.42"
    async with httpx.AsyncClient(base_url=nginx.base_url, timeout=10, transport=(
            httpx.AsyncHTTPTransport(local_address="127.0.0.41"))) as attacker:
        statuses = await wrong_codes(attacker, ATTEMPTS,
                                     [f"{victim}, {fresh_address()}" for _ in range(ATTEMPTS)])
    assert statuses == [401] * LOGIN_LIMIT + [429] * (ATTEMPTS - LOGIN_LIMIT)
    async with httpx.AsyncClient(base_url=nginx.base_url, timeout=10, transport=(
            httpx.AsyncHTTPTransport(local_address=victim))) as juror:
        assert await wrong_codes(juror, 1) == [401]
