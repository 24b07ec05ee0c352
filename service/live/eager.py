"""Start a coroutine at once and make a task of it only if it has to wait.

Broadcasting one leaderboard tick to 10,000 websockets with a task (or a queue
wake-up) per client costs a Future, a loop Handle and a task step per client per tick;
at that scale the garbage collector alone took a third of the process's CPU. A send to
a client whose socket buffer has room never waits, so the hub runs each send eagerly
and only a send that really blocks (a slow client) continues as a task.

Python 3.12 has this built in (`asyncio.Task(..., eager_start=True)`); on 3.11 the
coroutine is stepped once by hand and, if it suspended on a future, the rest is driven
by a small task that waits for that future and resumes it — the same protocol
`asyncio.Task` follows.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Generator
from typing import Any


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coro` until it first waits; None when it finished without waiting.

    Exceptions raised before the first wait propagate to the caller.
    """
    if sys.version_info >= (3, 12):
        task = asyncio.Task(coro, eager_start=True)  # type: ignore[call-arg,unused-ignore]
        return None if task.done() and _consume(task) else task
    try:
        awaited = coro.send(None)
    except StopIteration:
        return None
    task = asyncio.ensure_future(_resume(coro, awaited))
    task.add_done_callback(lambda _: coro.close())  # a cancelled task ends the inner one too
    return task


def _consume(task: asyncio.Task[None]) -> bool:
    task.result()  # re-raise what the eager part raised, as the 3.11 path does
    return True


async def _resume(coro: Coroutine[Any, Any, None], awaited: Any) -> None:
    """Drive a coroutine that suspended on `awaited` to its end, as a Task would."""
    while True:
        if awaited is None:  # a bare `yield` (asyncio.sleep(0)): give the loop a turn
            await asyncio.sleep(0)
        else:
            await _Pending(awaited)
        try:
            awaited = coro.send(None)
        except StopIteration:
            return


class _Pending:
    """`await _Pending(future)`: wait for the future the inner coroutine yielded, without
    consuming its result (the inner coroutine reads it when resumed)."""

    def __init__(self, future: Any) -> None:
        self._future = future

    def __await__(self) -> Generator[Any, None, None]:
        if not self._future.done():
            yield self._future
