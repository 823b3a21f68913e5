"""Eager coroutines: the first step runs at once, and only a coroutine that must wait goes on.

Faust's consumer hands every fetched record to the streams through
``Service.wait_first(deliver(record), suspend_flow.wait())``. That makes four tasks and an
``asyncio.wait`` per record, about a tenth of the worker's time under load, although
delivering almost never waits: it puts the record in a queue with room. Running the first step
directly skips all of that whenever the coroutine finishes in it (Python 3.12's eager task
factory does the same for every task).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Suspended(Generic[T]):
    """A coroutine that ran until it had to wait; awaiting this goes on from there."""

    def __init__(self, coro: Coroutine[Any, Any, T], waiting_on: Any) -> None:
        self.coro = coro
        self.waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, T]:
        return _go_on(self.coro, self.waiting_on)


def step(coro: Coroutine[Any, Any, T]) -> T | Suspended[T]:
    """Run ``coro`` up to its first wait: its result if it finished, else where it waits.

    An exception the first step raises propagates, as awaiting the coroutine would.
    """
    try:
        waiting_on = coro.send(None)
    except StopIteration as finished:
        result: T = finished.value
        return result
    return Suspended(coro, waiting_on)


def _go_on(coro: Coroutine[Any, Any, T], waiting_on: Any) -> Generator[Any, Any, T]:
    """``yield from coro`` (PEP 380), entered with ``coro`` already waiting on ``waiting_on``.

    What the task sends or throws in (a result, a cancellation) is passed on to ``coro``.
    """
    yielded = waiting_on
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration as finished:
                result: T = finished.value
                return result
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as finished:
                result = finished.value
                return result
