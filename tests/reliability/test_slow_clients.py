"""Slow clients are cut off: a request head must arrive within HEADER_TIMEOUT_S and its
body within BODY_TIMEOUT_S, or the connection gets 408 and is closed; meanwhile votes
are taken as usual (service/core/http_timeouts.py).

Without these bounds, 3,000 connections trickling their heads or bodies were held open
for a whole 85 s drill, each a descriptor and buffers, and for a body a task.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import websockets

from service.core.http_timeouts import SWEEP_EVERY_S
from tests.conftest import LiveServer, Stores, start_server
from tests.reliability.rig import make_voters, open_contest

HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 3.0
KEEPALIVE_TIMEOUT_S = 5  # longer than the head timeout: idle is not slow
MARGIN_S = SWEEP_EVERY_S + 3.0  # the sweep's period, plus a loaded 2-core host
ATTACKERS = 300  # of each kind
TRICKLE_EVERY_S = 0.5
TRICKLE_AT_MOST = 40  # bytes: the trickler gives up on its own after 20 s (bounded)
STILL_SENDING_BODY = 3_000_000  # bytes: under MAX_BODY_BYTES; more than the test sends
HALF_A_HEAD = b"POST /api/v1/contests/x/votes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"


@pytest.fixture(scope="module")
def server(stores: Stores, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = start_server(stores, tmp_path_factory.mktemp("slow"),
                       HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S), BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
                       KEEPALIVE_TIMEOUT_S=str(KEEPALIVE_TIMEOUT_S))
    yield srv
    srv.stop()


@dataclass
class Cut:
    """How a slow connection ended: seconds after its deadline's start, and what it got."""

    after_s: float
    answer: bytes

    @property
    def status(self) -> int | None:
        first = self.answer.split(b"\r\n", 1)[0].split()
        return int(first[1]) if len(first) > 1 and first[1].isdigit() else None

    @property
    def error_code(self) -> str | None:
        _, _, body = self.answer.partition(b"\r\n\r\n")
        try:
            return str(json.loads(body)["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return None


async def _until_closed(reader: asyncio.StreamReader, started: float, limit_s: float) -> Cut:
    """Everything the server sends until it closes (or `limit_s`, then a failure)."""
    answer = await asyncio.wait_for(reader.read(), timeout=limit_s)  # read() = until EOF
    return Cut(time.monotonic() - started, answer)


async def half_a_head(port: int) -> Cut:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    try:
        writer.write(HALF_A_HEAD)
        return await _until_closed(reader, started, HEADER_TIMEOUT_S + 30)
    finally:
        writer.close()


async def trickled_body(port: int, cid: str, token: str) -> Cut:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST /api/v1/contests/{cid}/votes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 200\r\n\r\n{{".encode())
        started = time.monotonic()
        closing = asyncio.ensure_future(_until_closed(reader, started, BODY_TIMEOUT_S + 30))

        async def trickle() -> None:
            for _ in range(TRICKLE_AT_MOST):
                if closing.done():
                    return
                writer.write(b" ")
                await asyncio.sleep(TRICKLE_EVERY_S)  # a pace: the attack is its slowness

        trickling = asyncio.ensure_future(trickle())
        try:
            return await closing
        finally:
            trickling.cancel()
    finally:
        writer.close()


async def test_trickled_heads_and_bodies_are_cut_off_with_408_while_votes_go_on(
        server: LiveServer) -> None:
    cid = await open_contest(server, cap=5)
    voters = await make_voters(server, cid, ATTACKERS + 1)
    heads = [asyncio.ensure_future(half_a_head(server.port)) for _ in range(ATTACKERS)]
    bodies = [asyncio.ensure_future(trickled_body(server.port, cid, v.token))
              for v in voters[:ATTACKERS]]

    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        vote = await api.post(f"/api/v1/contests/{cid}/votes",
                              json={"entry": "AZ", "key": "during-the-attack"},
                              headers={"Authorization": f"Bearer {voters[-1].token}"})
    assert vote.status_code == 201, vote.text
    assert not any(task.done() for task in heads + bodies), "a slow client was cut too early"

    head_cuts = await asyncio.gather(*heads)
    body_cuts = await asyncio.gather(*bodies)
    print(f"\n  {ATTACKERS} half heads closed after {min(c.after_s for c in head_cuts):.2f}–"
          f"{max(c.after_s for c in head_cuts):.2f} s, {ATTACKERS} trickled bodies after "
          f"{min(c.after_s for c in body_cuts):.2f}–{max(c.after_s for c in body_cuts):.2f} s; "
          f"the vote during the attack: {vote.status_code} in "
          f"{vote.elapsed.total_seconds() * 1000:.0f} ms")
    assert max(c.after_s for c in head_cuts) < HEADER_TIMEOUT_S + MARGIN_S
    assert min(c.after_s for c in head_cuts) >= HEADER_TIMEOUT_S - 0.1
    assert {(c.status, c.error_code) for c in head_cuts} == {(408, "request_timeout")}
    assert max(c.after_s for c in body_cuts) < BODY_TIMEOUT_S + MARGIN_S
    assert min(c.after_s for c in body_cuts) >= BODY_TIMEOUT_S - 0.1
    assert {(c.status, c.error_code) for c in body_cuts} == {(408, "request_timeout")}
    assert all(b"connection: close" in c.answer.lower() for c in body_cuts)


def send_on_past_the_answer(port: int, cid: str, token: str) -> bytes | OSError:
    """A body sent 200 bytes at a time that never completes, by a client that reads
    its answer only 0.2 s after it arrived (a busy phone): what it reads, or the error
    its socket got instead."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f"POST /api/v1/contests/{cid}/votes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: Bearer {token}\r\nContent-Type: application/json"
                     f"\r\nContent-Length: {STILL_SENDING_BODY}\r\n\r\n{{".encode())
        give_up = time.monotonic() + BODY_TIMEOUT_S + MARGIN_S
        arrived = 0.0
        try:
            while time.monotonic() < give_up and not (arrived and time.monotonic() > arrived):
                sock.sendall(b" " * 200)
                if select.select([sock], [], [], 0.002)[0] and not arrived:  # 100 kB/s
                    arrived = time.monotonic() + 0.2
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            return answer
        except OSError as error:  # a reset: whatever the server had sent is gone
            return error


async def test_a_client_still_sending_when_its_body_times_out_reads_the_whole_408(
        server: LiveServer) -> None:
    """After its 408 the server half-closes and drains what the client still sends, as
    nginx's lingering close does: closed outright, the bytes arriving after the close
    make the kernel answer with a reset, and the reset takes the 408 with it."""
    cid = await open_contest(server, cap=5)
    voter = (await make_voters(server, cid, 1))[0]
    answer = await asyncio.to_thread(send_on_past_the_answer, server.port, cid, voter.token)
    assert isinstance(answer, bytes), f"the client got {answer!r} instead of its answer"
    cut = Cut(0.0, answer)
    assert (cut.status, cut.error_code) == (408, "request_timeout")


async def test_a_connection_that_sends_nothing_is_closed_after_the_idle_timeout(
        server: LiveServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        cut = await _until_closed(reader, time.monotonic(), KEEPALIVE_TIMEOUT_S + 30)
    finally:
        writer.close()
    assert cut.answer == b""
    assert KEEPALIVE_TIMEOUT_S - 0.1 <= cut.after_s < KEEPALIVE_TIMEOUT_S + MARGIN_S


async def test_a_connection_opened_ahead_of_its_request_is_served(server: LiveServer) -> None:
    """Pools and proxies open connections before they have a request for them: such a
    connection is idle, not slow, so its head deadline starts with its first byte."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        await asyncio.sleep(HEADER_TIMEOUT_S + SWEEP_EVERY_S + 0.5)  # past the head deadline
        writer.write(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = await asyncio.wait_for(reader.readuntil(b'{"status":"ok"}'), timeout=10)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 200")


async def test_a_kept_alive_connection_gets_the_header_timeout_for_its_next_request(
        server: LiveServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = await asyncio.wait_for(reader.readuntil(b'{"status":"ok"}'), timeout=10)
        assert first.startswith(b"HTTP/1.1 200")
        writer.write(HALF_A_HEAD)
        cut = await _until_closed(reader, time.monotonic(), HEADER_TIMEOUT_S + 30)
    finally:
        writer.close()
    assert (cut.status, cut.error_code) == (408, "request_timeout")
    assert cut.after_s < HEADER_TIMEOUT_S + MARGIN_S


async def test_a_body_in_pieces_within_the_timeout_is_taken(server: LiveServer) -> None:
    cid = await open_contest(server, cap=5)
    voter = (await make_voters(server, cid, 1))[0]
    body = json.dumps({"entry": "AZ", "key": "in-two-pieces"}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(f"POST /api/v1/contests/{cid}/votes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     f"Authorization: Bearer {voter.token}\r\nContent-Type: application/json"
                     f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body[:5])
        await asyncio.sleep(BODY_TIMEOUT_S / 3)  # a slow but honest client: the pause is the case
        writer.write(body[5:])
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 201"), status_line


async def test_a_websocket_outlives_both_timeouts(server: LiveServer) -> None:
    """The deadlines are the HTTP request's: an upgraded connection is the websocket's."""
    cid = server.new_contest()
    url = server.base_url.replace("http", "ws", 1) + f"/ws/contests/{cid}/leaderboard"
    async with websockets.connect(url) as socket:
        await asyncio.wait_for(socket.recv(), timeout=10)  # the snapshot
        # staying connected past both deadlines (and a sweep) is what is tested
        await asyncio.sleep(HEADER_TIMEOUT_S + BODY_TIMEOUT_S + 2 * SWEEP_EVERY_S)
        pong = await socket.ping()
        await asyncio.wait_for(pong, timeout=10)
