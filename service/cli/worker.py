"""The worker side of `silkvote serve --workers N`: a worker never outlives its supervisor.

uvicorn's supervisor (the parent process) replaces a worker that dies, but nothing ends
the workers when the parent itself dies. After a `kill -9` of the parent (an OOM kill,
a deploy script's SIGKILL), they keep serving, orphaned, on the port they share, and
the next `silkvote serve` fails with `Address already in use`. So each worker asks the
kernel, as it starts, for a SIGTERM when its parent exits (Linux
`prctl(PR_SET_PDEATHSIG)`). SIGTERM is uvicorn's graceful shutdown: the requests in
flight are answered, then the worker exits and the port is free. Where `prctl` does not
exist, a daemon thread watches `os.getppid()` instead.

Only a supervised worker arms it. The single process of `serve --workers 1` (or `up`)
is not tied to whoever started it: `nohup silkvote serve &` must survive its shell.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PR_GET_PDEATHSIG = 2
WATCH_EVERY_S = 1.0  # the fallback's polling period: a second to notice is plenty


def _prctl() -> Any | None:
    """libc's prctl, on Linux only."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def death_signal() -> int:
    """The signal this process gets when its parent exits (0: none, or not Linux)."""
    prctl = _prctl()
    if prctl is None:
        return 0
    value = ctypes.c_int(0)
    if prctl(PR_GET_PDEATHSIG, ctypes.byref(value), 0, 0, 0) != 0:
        return 0
    return value.value


def _watch_parent(parent_pid: int, sig: signal.Signals) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_EVERY_S)  # a polling period: the parent's death is the event
    os.kill(os.getpid(), sig)


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> bool:
    """In a worker started by a multiprocessing parent (uvicorn's supervisor), arrange to
    get `sig` when that parent exits; True if armed, False if this process is no
    supervised worker. A parent that died before the arming is caught by comparing
    `os.getppid()` with it afterwards."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return False
    prctl = _prctl()
    if prctl is None or prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        threading.Thread(target=_watch_parent, args=(parent.pid, sig), daemon=True,
                         name="silkvote-parent-watch").start()
    if os.getppid() != parent.pid:  # orphaned already, before the kernel could tell us
        os.kill(os.getpid(), sig)
    return True


def create_worker_app() -> Any:
    """The ASGI factory of a supervised worker: tie it to its parent, then build the app."""
    die_with_parent()
    from service.app import create_served_app

    return create_served_app()
