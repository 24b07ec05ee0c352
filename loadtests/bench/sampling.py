"""CPU and memory of the service, PostgreSQL and Redis, read from /proc.

Throughput alone cannot say where a vote's cost goes, and the scaling plan needs it
per component: the CPU each process tree used over a phase, divided by the votes it
accepted. /proc gives it with no agent in the processes measured, and counts the
children a process has reaped (the service's workers, PostgreSQL's backends).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _parents() -> dict[int, int]:
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                found[int(entry)] = int(fields[1])
    return found


def process_tree(root: int, parents: dict[int, int] | None = None) -> list[int]:
    """`root` and every live descendant (`parents`: one scan of /proc, to share)."""
    parents = _parents() if parents is None else parents
    tree, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree += children
        frontier += children
    return [pid for pid in tree if pid in parents]


def pids_named(*names: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                comm = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                pids.append(int(entry))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU of `pids`, including children they have already reaped."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


@dataclass
class ProcessGroups:
    """Where the CPU goes: the service, PostgreSQL, Redis (found by pid files or name)."""

    server_pid: int
    postgres_root: int | None
    redis_pid: int | None

    def pids(self) -> dict[str, list[int]]:
        parents = _parents()  # one scan of /proc: on a slow host each costs milliseconds
        postgres = (process_tree(self.postgres_root, parents) if self.postgres_root
                    else pids_named("postgres"))
        redis = [self.redis_pid] if self.redis_pid else pids_named("redis-server",
                                                                    "valkey-server")
        return {"service": process_tree(self.server_pid, parents), "postgres": postgres,
                "redis": redis}

    def cpu(self, pids: dict[str, list[int]] | None = None) -> dict[str, float]:
        return {name: cpu_seconds(group) for name, group in (pids or self.pids()).items()}

    def rss(self, pids: dict[str, list[int]] | None = None) -> dict[str, int]:
        return {name: rss_bytes(group) for name, group in (pids or self.pids()).items()}
