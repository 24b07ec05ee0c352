"""Stopping a background task: it must end even if a library swallowed a cancellation.

Python 3.11's `asyncio.wait_for` (which asyncpg and redis-py use) can lose a `cancel()`
that arrives as the awaited call finishes; the task then goes on with its loop. Seen on
a slow host (2026-12-04): a worker's shutdown cancelled the window scheduler once and
awaited it forever, so the worker never exited and, orphaned when its parent was killed,
went on flipping windows and repairing tallies of later tests' contests for 20 minutes.
"""

from __future__ import annotations

import asyncio

import pytest

from service.core.background import stop_tasks

pytestmark = pytest.mark.stores_independent


async def _swallows_cancellations(times: int, ticks: list[int]) -> None:
    """A loop like the scheduler's, around a call that loses the first `times` cancels."""
    lost = 0
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if lost == times:
                raise
            lost += 1  # what the 3.11 wait_for race does: the cancel is gone
        ticks.append(1)


async def test_a_task_that_swallows_cancellations_still_stops() -> None:
    ticks: list[int] = []
    task = asyncio.create_task(_swallows_cancellations(3, ticks))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(stop_tasks([task]), timeout=10)
    assert task.cancelled()


async def test_stopping_tasks_that_end_on_the_first_cancel_waits_for_each() -> None:
    tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(3)]
    await stop_tasks(tasks)
    assert all(t.cancelled() for t in tasks)


async def test_a_task_that_failed_is_stopped_without_raising() -> None:
    async def fails() -> None:
        raise RuntimeError("store down")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await stop_tasks([task])
    assert task.done()
