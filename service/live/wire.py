"""Leaderboard updates written to each socket as one ready-made websocket frame.

A tick sends the same text to every subscriber. Through the ASGI `send` each client
costs its own encoding: the server's websocket library frames the text anew, copies it
and joins the pieces, about 20 µs a client, which at 10,000 clients is most of a tick's
CPU. A server-to-client frame is not masked (RFC 6455 §5.1), so the bytes on the wire
are the same for every client: the hub frames a message once (`text_frame`) and
`DirectFrameProtocol` writes those bytes straight to each client's transport.

`DirectFrameProtocol` is uvicorn's sans-I/O websocket protocol plus one ASGI scope
extension, `WRITE_FRAME`: a function that writes a frame when the connection is open
and its transport has room, and otherwise returns False so the caller falls back to
the ordinary ASGI `send` (which waits for room; see `Subscriber` in `hub.py`). Servers
without the extension (test clients, other ASGI servers) simply use `send`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

WRITE_FRAME = "silkvote.write_frame"  # key in scope["extensions"]
WriteFrame = Callable[[bytes], bool]  # True when written; False: use the ASGI send

_FIN_TEXT = 0x81  # FIN bit + opcode 1 (text)


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked websocket text frame (server to client) carrying `payload`."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _FIN_TEXT, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, size)
    return header + payload


def frame_writer(scope: Any) -> WriteFrame | None:
    """The direct frame writer the server offers for this connection, if any."""
    extensions = scope.get("extensions") or {}
    return cast(WriteFrame | None, extensions.get(WRITE_FRAME))


class DirectFrameProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, offering `WRITE_FRAME` to the application."""

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:  # the app's task starts later, on the loop
            extensions = cast(dict[str, Any], self.scope["extensions"])
            extensions[WRITE_FRAME] = self.write_frame

    def write_frame(self, frame: bytes) -> bool:
        """Write a ready frame now; False if the connection is not open or is backed up."""
        # OPEN only between the app's accept and a close frame (sent or received);
        # `writable` is cleared while the transport's buffer is over its high-water mark.
        if (self.conn.state is not State.OPEN or not self.writable.is_set()
                or self.disconnected or self.transport.is_closing()):
            return False
        self.transport.write(frame)
        return True
