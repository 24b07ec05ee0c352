"""A vote answered directly by the protocol (service/core/http_direct.py) keeps HTTP/1.1
as a client sees it: a body that comes after its head, requests pipelined on one
connection, `Connection: close` and HTTP/1.0, each answered as uvicorn's own `send`
would answer them. Spoken over a raw socket, since an HTTP client library smooths over
exactly these cases."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import msgspec
import pytest

from tests.conftest import LiveServer

DEADLINE_S = 10.0


@pytest.fixture(scope="module")
def open_contest(live_server: LiveServer) -> Iterator[tuple[str, str]]:
    """An open contest and a KZ voter's token for it."""
    cid = live_server.new_contest()
    token = live_server.call("POST", f"/api/v1/contests/{cid}/voter-tokens",
                             {"voter": "+7700200", "country": "KZ"})["token"]
    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    yield cid, token
    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "closed"})


def vote_request(cid: str, token: str, key: str, *, version: str = "1.1",
                 extra: str = "", pad: int = 0) -> tuple[bytes, bytes]:
    """(head, body) of a vote for AZ under the retry key `key`, its body `pad` bytes
    longer than it needs to be."""
    body = msgspec.json.encode({"entry": "AZ", "key": key} | ({"pad": "x" * pad} if pad else {}))
    head = (f"POST /api/v1/contests/{cid}/votes HTTP/{version}\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Request-ID: {key}\r\n{extra}\r\n")
    return head.encode(), body


class Answers:
    """The answers read off one connection, parsed as they complete."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.closed = False

    def next(self) -> tuple[int, dict[str, str], bytes]:
        deadline = time.monotonic() + DEADLINE_S
        while True:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.lower().split(": ", 1) for line in lines[1:])
                size = int(headers["content-length"])
                if len(rest) >= size:
                    self.buffer = rest[size:]
                    return int(lines[0].split()[1]), headers, rest[:size]
            assert time.monotonic() < deadline, f"no whole answer in {self.buffer!r}"
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                self.closed = True
                assert self.buffer, "the connection closed before an answer"
                raise AssertionError(f"closed mid-answer: {self.buffer!r}")
            self.buffer += chunk

    def eof(self) -> bool:
        """Whether the server closes the connection (within the deadline)."""
        self.sock.settimeout(DEADLINE_S)
        return not self.buffer and self.sock.recv(65536) == b""


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE_S)


def test_a_body_sent_after_its_head_is_waited_for(live_server: LiveServer,
                                                  open_contest: tuple[str, str]) -> None:
    head, body = vote_request(*open_contest, "late-body")
    with connect(live_server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # three segments a moment apart, so that the server reads the head alone and
        # then the body in two parts (a gap between writes, not a wait for a condition)
        for part in (head, body[:5], body[5:]):
            sock.sendall(part)
            time.sleep(0.2)
        status, headers, answer = Answers(sock).next()
    assert status == 201, answer
    assert msgspec.json.decode(answer)["accepted"] is True
    assert headers["x-request-id"] == "late-body"


def test_pipelined_votes_are_answered_in_order_on_one_connection(
        live_server: LiveServer, open_contest: tuple[str, str]) -> None:
    keys = [f"piped-{n}" for n in range(5)]
    requests = [vote_request(*open_contest, key) for key in keys]
    with connect(live_server) as sock:
        sock.sendall(b"".join(head + body for head, body in requests))
        answers = Answers(sock)
        seen = [answers.next() for _ in keys]
        # and the connection stays usable: the first again is a retry now
        sock.sendall(b"".join(requests[0]))
        retry = answers.next()
    assert [status for status, _, _ in seen] == [201] * 5
    assert [headers["x-request-id"] for _, headers, _ in seen] == keys
    remaining = [msgspec.json.decode(body)["remaining"] for _, _, body in seen]
    assert remaining == sorted(remaining, reverse=True) and len(set(remaining)) == 5
    assert retry[0] == 200 and msgspec.json.decode(retry[2])["duplicate"] is True


@pytest.mark.parametrize(("key", "version", "extra"), [
    ("closing", "1.1", "Connection: close\r\n"),  # the client asks for it
    ("old-client", "1.0", ""),  # HTTP/1.0 without keep-alive: the server must close
])
def test_a_vote_that_ends_its_connection_says_so_and_closes_it(
        live_server: LiveServer, open_contest: tuple[str, str], key: str, version: str,
        extra: str) -> None:
    head, body = vote_request(*open_contest, key, version=version, extra=extra)
    with connect(live_server) as sock:
        sock.sendall(head + body)
        answers = Answers(sock)
        status, headers, _ = answers.next()
        assert (status, headers["connection"]) == (201, "close")
        assert answers.eof()


def test_a_refused_vote_is_answered_whole_with_the_date(live_server: LiveServer,
                                                        open_contest: tuple[str, str]) -> None:
    """A refusal leaves the same way as an acceptance: one head with uvicorn's `date`,
    the error body, and the connection kept for the next request."""
    cid, _ = open_contest
    head, body = vote_request(cid, "not.a-token", "refused")
    with connect(live_server) as sock:
        sock.sendall(head + body)
        answers = Answers(sock)
        status, headers, answer = answers.next()
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        after = answers.next()
    assert status == 401 and set(msgspec.json.decode(answer)["error"]) == {"code", "message"}
    assert headers["date"] and "connection" not in headers
    assert after[0] == 200


@pytest.mark.parametrize("parts", [1, 40])
def test_an_oversized_vote_is_refused_body_too_large_however_it_arrives(
        live_server: LiveServer, open_contest: tuple[str, str], parts: int) -> None:
    """Over MAX_BODY_BYTES (4 MiB by default), whether the parser had the whole body
    before the vote was handed over or it is still coming: `400 body_too_large`, as on
    every other route."""
    head, body = vote_request(*open_contest, "big", pad=5 * 1024 * 1024)
    step = len(body) // parts + 1
    with connect(live_server) as sock:
        sock.sendall(head + body[:step])
        for start in range(step, len(body), step):
            sock.sendall(body[start:start + step])
        status, _, answer = Answers(sock).next()
    assert status == 400
    assert msgspec.json.decode(answer)["error"]["code"] == "body_too_large"
