"""Waiting in tests: poll the awaited condition until a deadline, never sleep a fixed time.

A fixed sleep before an assertion is wrong both ways: on a quiet machine it wastes its
whole length, and on a loaded CI host (two cores shared by the service, the stores and
the test) it is sometimes too short, so the test fails for no defect. Tests therefore
wait for the condition itself, with a generous deadline: they go on as soon as it
holds, and on timeout fail saying what they waited for and what they saw last.

A sleep is still right where its length is what the test is about (running load for N
seconds, an outage of a given length, a client's retry backoff, staying idle past a
keep-alive timeout); such sleeps carry a comment saying so.

    wait_until(probe, timeout_s, what, *, ok=bool, interval_s=0.02, retry_on=())
    await eventually(probe, timeout_s, what, *, ok=bool, interval_s=0.02, retry_on=())

`probe()` observes the state (for `eventually` it may be a coroutine function); the wait
ends when `ok(value)` is true and returns that value. Exceptions of the types in
`retry_on` count as "not yet" (and are reported as the last thing seen); any other
exception fails the wait at once.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["WaitTimeout", "eventually", "wait_until"]


class WaitTimeout(AssertionError):
    """The awaited condition did not hold before the deadline."""

    def __init__(self, what: str, timeout_s: float, last: object) -> None:
        super().__init__(f"waited {timeout_s:g} s for {what}; last seen: {last!r}")
        self.what, self.timeout_s, self.last = what, timeout_s, last


def wait_until(probe: Callable[[], T], timeout_s: float, what: str, *,
               ok: Callable[[T], object] = bool, interval_s: float = 0.02,
               retry_on: tuple[type[BaseException], ...] = ()) -> T:
    """Call `probe()` until `ok` accepts its value (returned), or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last: object = "nothing (the probe never returned)"
    while True:
        try:
            value = probe()
        except retry_on as exc:
            last = exc
        else:
            if ok(value):
                return value
            last = value
        if time.monotonic() >= deadline:
            raise WaitTimeout(what, timeout_s, last)
        time.sleep(interval_s)


async def eventually(probe: Callable[[], Awaitable[T]] | Callable[[], T], timeout_s: float,
                     what: str, *, ok: Callable[[T], object] = bool, interval_s: float = 0.02,
                     retry_on: tuple[type[BaseException], ...] = ()) -> T:
    """Await `probe()` (sync or async) until `ok` accepts its value (returned), or fail
    after `timeout_s`. A probe that hangs is cut off at the deadline too."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last: object = "nothing (the probe never returned)"
    while True:
        try:
            async with asyncio.timeout_at(deadline) as budget:
                value: Any = probe()
                if inspect.isawaitable(value):
                    value = await value
        except TimeoutError as exc:
            if budget.expired():
                raise WaitTimeout(what, timeout_s, last) from exc
            if not isinstance(exc, retry_on):
                raise
            last = exc
        except retry_on as exc:
            last = exc
        else:
            if ok(value):
                return value  # type: ignore[no-any-return]
            last = value
        if loop.time() >= deadline:
            raise WaitTimeout(what, timeout_s, last)
        await asyncio.sleep(interval_s)
