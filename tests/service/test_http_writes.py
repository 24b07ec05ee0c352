"""A response's head leaves with its body in one write, and bytes never change order
(service/core/http_writes.py). The served app's own answers go through it in every
other test of the suite; these pin the rules on a transport that records its writes."""

from __future__ import annotations

import asyncio

from service.core.http_writes import HeadWithBody


class RecordingTransport:
    """The two calls HeadWithBody makes of a transport, recorded."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def writer() -> tuple[HeadWithBody, RecordingTransport]:
    transport = RecordingTransport()
    return HeadWithBody(transport, asyncio.get_running_loop()), transport  # type: ignore[arg-type]


async def next_turn() -> None:
    await asyncio.sleep(0)


async def test_a_head_and_its_body_sent_together_leave_in_one_write() -> None:
    writes, transport = writer()
    writes.next_response()
    writes.write(b"HEAD")
    writes.write(b"BODY")
    assert transport.writes == [b"HEADBODY"]
    await next_turn()
    assert transport.writes == [b"HEADBODY"], "the flush found nothing left to send"


async def test_a_head_whose_body_is_late_leaves_at_the_next_turn_of_the_loop() -> None:
    writes, transport = writer()
    writes.next_response()
    writes.write(b"HEAD")
    assert transport.writes == []
    await next_turn()
    assert transport.writes == [b"HEAD"]
    writes.write(b"BODY")
    assert transport.writes == [b"HEAD", b"BODY"]


async def test_a_streamed_body_goes_out_as_it_comes() -> None:
    writes, transport = writer()
    writes.next_response()
    for chunk in (b"HEAD", b"one", b"two", b"three"):
        writes.write(chunk)
    assert transport.writes == [b"HEADone", b"two", b"three"]


async def test_each_response_of_a_connection_is_armed_anew() -> None:
    writes, transport = writer()
    for n in range(3):
        writes.next_response()
        writes.write(b"HEAD%d" % n)
        writes.write(b"BODY%d" % n)
    assert transport.writes == [b"HEAD0BODY0", b"HEAD1BODY1", b"HEAD2BODY2"]


async def test_a_close_sends_the_held_head_first_and_nothing_is_written_after_it() -> None:
    writes, transport = writer()
    writes.next_response()
    writes.write(b"HEAD")
    writes.close()
    assert transport.writes == [b"HEAD"] and transport.closed
    await next_turn()  # the pending flush must not write to the closed transport
    assert transport.writes == [b"HEAD"]


async def test_anything_else_is_the_transports_own() -> None:
    writes, _ = writer()
    assert writes.get_extra_info("peername") == "extra peername"


async def test_a_whole_response_leaves_in_one_write_even_when_a_head_was_awaited() -> None:
    """A directly answered request writes head and body together (core/http_direct.py):
    armed for a head, the writer holds nothing of it."""
    writes, transport = writer()
    writes.next_response()
    writes.write_whole(b"HEADBODY")
    assert transport.writes == [b"HEADBODY"]
    writes.write(b"NEXT")
    assert transport.writes == [b"HEADBODY", b"NEXT"]
