"""The Kannel harness itself: it picks free ports before bearerbox binds them, so another
process (a parallel test's server, or an outgoing connection given the same ephemeral
port) can take one in between. bearerbox then panics and exits; the harness must notice
and start it again on fresh ports, rather than wait out its deadline and fail a test
that found no defect (as CI saw once: "waited 15 s for bearerbox to listen").
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.kannel import kannel_installed, listens, start_kannel
from tests.harness.server import free_port

pytestmark = pytest.mark.skipif(
    not kannel_installed(), reason="Kannel is not installed and could not be: `make kannel` "
    "installs Debian's kannel and kannel-extras (as root)")

NOWHERE = "http://127.0.0.1:9/sms"  # smsbox connects to bearerbox without posting anything


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield int(holder.getsockname()[1])


def test_a_port_taken_after_it_was_picked_makes_the_harness_pick_again(
        tmp_path: Path, taken_port: int) -> None:
    picks = iter([free_port(), taken_port, free_port()])  # admin, smsbox, fake SMSC

    def pick() -> int:
        return next(picks, None) or free_port()

    gateway = start_kannel(tmp_path, NOWHERE, pick_port=pick)
    try:
        assert gateway.attempts == 2
        assert gateway.box_port != taken_port
        assert listens(gateway.boxes[0], gateway.box_port)
        assert listens(gateway.boxes[0], gateway.smsc_port)
    finally:
        gateway.stop()


def test_a_bearerbox_that_cannot_start_fails_at_once_saying_why(
        tmp_path: Path, taken_port: int) -> None:
    with pytest.raises(RuntimeError) as failure:
        start_kannel(tmp_path, NOWHERE, pick_port=lambda: taken_port)
    assert "bearerbox exited" in str(failure.value)
    assert "PANIC" in str(failure.value)  # its own log says what went wrong
