"""The stores of a ledger failover drill: a replicated PostgreSQL pair and a Valkey.

The pair is the service's own (`service/stores/replicated.py`, which `silkvote up
--replicated` runs), so the drill tests what a person starts. This module adds what
only a drill does to it: kill its primary's postmaster by PID (a process this run
started, never any other PostgreSQL on the machine) and tell when the death is seen,
as a failover manager would before it promotes the standby.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from service.stores.embedded import start_valkey
from service.stores.migrations import apply_url
from service.stores.replicated import Node, ReplicatedPostgres
from tests.harness.stores import MIGRATIONS, Stores
from tests.harness.waiting import wait_until

DEATH_SEEN_WITHIN_S = 10.0


@dataclass
class Killed:
    """A primary killed by the drill: which node, and its processes at the kill."""

    node: Node
    pids: list[int]

    def refuses_connections(self) -> bool:
        """Nothing listens on its port any more (its postmaster is gone)."""
        try:
            with socket.create_connection(("127.0.0.1", self.node.port), timeout=0.2):
                return False
        except OSError:
            return True

    def processes_left(self) -> list[int]:
        """Its postmaster's children still running (they exit once they notice)."""
        return [pid for pid in self.pids if _running(pid)]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def processes(node: Node) -> list[int]:
    """The node's postmaster and its children (every backend and helper process)."""
    postmaster = node.pid()
    assert postmaster is not None, f"{node.address} is not running"
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return [postmaster, *map(int, children)]


def pause(node: Node, paused: bool) -> None:
    """SIGSTOP (or SIGCONT) every process of the node: a server that stops answering."""
    for pid in processes(node):
        os.kill(pid, signal.SIGSTOP if paused else signal.SIGCONT)


def kill_primary(pair: ReplicatedPostgres) -> Killed:
    """`kill -9` of the primary's postmaster, then wait until its port refuses: the
    moment a failover manager would see it dead."""
    killed = Killed(pair.primary, processes(pair.primary))
    os.kill(killed.pids[0], signal.SIGKILL)
    wait_until(killed.refuses_connections, DEATH_SEEN_WITHIN_S,
               f"the killed primary's port {pair.primary.port} to refuse connections",
               interval_s=0.01)
    return killed


@contextmanager
def server_folder() -> Iterator[Path]:
    """A folder for servers that run as another user (root's PostgreSQL runs as the
    wheel's user), outside pytest's temporary root: every pytest run that starts takes
    the others' access off that root, and a server user locked out of its folder fails
    its next initdb or pg_ctl. Removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="silkvote-pg-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@asynccontextmanager
async def replicated_stores(folder: Path) -> AsyncIterator[tuple[ReplicatedPostgres, Stores]]:
    """A started pair with the schema applied, and Stores whose DATABASE_URL lists both
    servers (asyncpg keeps the writable one) for `silkvote serve` to use; Valkey keeps
    its data in `folder`."""
    with server_folder() as pair_folder:
        pair = ReplicatedPostgres(pair_folder).start()
        stores = Stores(pair.database_url, "", True, folder)
        try:
            await apply_url(pair.database_url, MIGRATIONS)
            (folder / "valkey").mkdir(parents=True, exist_ok=True)
            stores.redis_url, stores.valkey = start_valkey(folder / "valkey")
            yield pair, stores
        finally:
            stores.stop_servers()  # Valkey (again after a rig's stop: then a no-op)
            pair.stop()
