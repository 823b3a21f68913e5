"""Eager coroutines (streams.broker.eager): the first step at once, the rest as awaiting would run
it."""

from __future__ import annotations

import asyncio

import pytest

from streams.broker import eager


async def finishes_at_once(trace: list[str]) -> str:
    trace.append("ran")
    return "done"


async def waits_on(event: asyncio.Event, trace: list[str]) -> str:
    trace.append("before")
    try:
        await event.wait()
    finally:
        trace.append("after")
    return "woken"


async def fails_at_once() -> None:
    raise LookupError("first step")


def test_a_coroutine_that_never_waits_finishes_in_its_first_step() -> None:
    trace: list[str] = []
    assert eager.step(finishes_at_once(trace)) == "done"
    assert trace == ["ran"]


def test_an_exception_of_the_first_step_propagates() -> None:
    with pytest.raises(LookupError, match="first step"):
        eager.step(fails_at_once())


def test_a_waiting_coroutine_goes_on_where_it_stopped() -> None:
    async def scenario() -> tuple[object, list[str]]:
        event, trace = asyncio.Event(), list[str]()
        outcome = eager.step(waits_on(event, trace))
        assert isinstance(outcome, eager.Suspended)
        assert trace == ["before"]
        task = asyncio.ensure_future(outcome)
        await asyncio.sleep(0)
        assert not task.done()
        event.set()
        return await task, trace

    result, trace = asyncio.run(scenario())
    assert result == "woken"
    assert trace == ["before", "after"]


def test_cancelling_a_suspended_coroutine_cancels_it_inside() -> None:
    async def scenario() -> list[str]:
        trace: list[str] = []
        outcome = eager.step(waits_on(asyncio.Event(), trace))
        assert isinstance(outcome, eager.Suspended)
        task = asyncio.ensure_future(outcome)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return trace

    # The coroutine's own cleanup ran: the cancellation reached the await it stopped at.
    assert asyncio.run(scenario()) == ["before", "after"]


def test_a_coroutine_waiting_several_times_gets_every_result() -> None:
    async def twice(queue: asyncio.Queue[int]) -> int:
        return await queue.get() + await queue.get()

    async def scenario() -> int:
        queue: asyncio.Queue[int] = asyncio.Queue()
        outcome = eager.step(twice(queue))
        assert isinstance(outcome, eager.Suspended)
        task = asyncio.ensure_future(outcome)
        for value in (2, 3):
            await asyncio.sleep(0)
            queue.put_nowait(value)
        return await task

    assert asyncio.run(scenario()) == 5
