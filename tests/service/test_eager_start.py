"""`start_eagerly`: the hub's way to send to thousands of clients without a task each."""

from __future__ import annotations

import asyncio

import pytest

from service.live.eager import start_eagerly


def run(scenario):  # type: ignore[no-untyped-def]
    return asyncio.run(scenario())


def test_a_coroutine_that_never_waits_finishes_on_the_spot_without_a_task() -> None:
    async def scenario() -> None:
        done: list[int] = []

        async def work() -> None:
            done.append(1)

        assert start_eagerly(work()) is None
        assert done == [1]

    run(scenario)


def test_a_coroutine_that_waits_continues_as_a_task_and_sees_the_awaited_result() -> None:
    async def scenario() -> None:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        seen: list[str] = []

        async def work() -> None:
            seen.append("before")
            seen.append(await future)
            await asyncio.sleep(0)  # a bare yield on the way is fine too
            seen.append("after")

        task = start_eagerly(work())
        assert task is not None and seen == ["before"]
        future.set_result("result")
        await task
        assert seen == ["before", "result", "after"]

    run(scenario)


def test_an_error_before_the_first_wait_reaches_the_caller() -> None:
    async def scenario() -> None:
        async def work() -> None:
            raise ValueError("at once")

        with pytest.raises(ValueError, match="at once"):
            start_eagerly(work())

    run(scenario)


def test_an_error_after_a_wait_lands_in_the_task() -> None:
    async def scenario() -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def work() -> None:
            await future

        task = start_eagerly(work())
        assert task is not None
        future.set_exception(ConnectionError("client gone"))
        with pytest.raises(ConnectionError):
            await task

    run(scenario)


def test_cancelling_the_task_closes_the_inner_coroutine() -> None:
    async def scenario() -> None:
        cleaned: list[bool] = []

        async def work() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                cleaned.append(True)

        task = start_eagerly(work())
        assert task is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned == [True]

    run(scenario)
