"""A loopback HTTP relay that loses the answers to the first requests it relays: the
request reaches the server and is processed, but the client sees its connection close
without a response, as when a network drops an answer. A gateway's retry then sends the
same request again (tests/sms: Kannel's http-request-retry with the same message id).
"""

from __future__ import annotations

import socket
import threading

from tests.harness.server import free_port


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    lines = [line for line in head.split(b"\r\n")
             if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


class LossyProxy:
    def __init__(self, upstream_port: int, lose: int) -> None:
        self.port = free_port()
        self.upstream_port = upstream_port
        self.lose = lose  # how many answers to drop, from the first request on
        self.lost = 0
        self.relayed = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            if request is None:
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as up:
                up.sendall(request)
                response = b""
                while chunk := up.recv(65536):
                    response += chunk
            with self._lock:
                drop = self.lost < self.lose
                self.lost += drop
                self.relayed += not drop
            if not drop:
                conn.sendall(response)

    def close(self) -> None:
        self._server.close()
