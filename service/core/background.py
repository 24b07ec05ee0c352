"""Stopping the service's background tasks so that they do end.

A single `task.cancel()` and an await is not enough on Python 3.11: its
`asyncio.wait_for`, which asyncpg and redis-py use on every call, can lose a
cancellation that arrives just as the awaited call completes (CPython gh-86296, fixed in
3.12 by reimplementing `wait_for` on `asyncio.timeout`). The task then goes on with its
loop, and a shutdown that awaits it waits forever: on a slow host a worker never left
its lifespan's shutdown, and, orphaned, went on flipping windows and repairing tallies.
So a task is cancelled again until it has ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger("silkvote.background")

RECANCEL_AFTER_S = 0.5  # a task that did not end this long after a cancel gets another


async def stop_tasks(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait until every one has ended (cancelled, done or failed)."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    rounds = 0
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_AFTER_S)
        rounds += 1
        if pending and rounds == 1:
            log.warning("background tasks still running after a cancel, cancelling "
                        "again: %s", ", ".join(sorted(t.get_name() for t in pending)))
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a task that failed earlier is not logged again
