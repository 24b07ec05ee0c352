"""At most N open websockets per client address, in each process.

A leaderboard socket costs the server memory and a share of every tick, and one
client with thousands of them slows the board for everybody. Pages need one socket
each, so `WS_CONNECTIONS_PER_CLIENT` (default 20) leaves room for a newsroom behind
one address while a script is stopped early. It is counted per process (a plain
dict, no store round trip on connect): with `--workers N` a client can hold up to N
times the limit, which still bounds it. The address is the client's as
`security/client_address.py` decides it.
"""

from __future__ import annotations


class ConnectionLimit:
    """Open connections per client address; `limit` 0 means no limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def acquire(self, client: str) -> bool:
        """Count one more connection of `client`, or False (and count nothing) if it
        has `limit` open already."""
        held = self._open.get(client, 0)
        if self.limit and held >= self.limit:
            return False
        self._open[client] = held + 1
        return True

    def release(self, client: str) -> None:
        held = self._open.get(client, 0) - 1
        if held > 0:
            self._open[client] = held
        else:
            self._open.pop(client, None)

    def held(self, client: str) -> int:
        return self._open.get(client, 0)
