"""Threads for database calls that may never return, which the process does not wait for at exit.

A query to a frozen database (its processes stopped, its disk or the network path hung) waits
until it thaws, and a thread cannot be stopped. The threads of a ``ThreadPoolExecutor``,
``asyncio.to_thread``'s among them, are joined when the interpreter exits, so a worker
stopped (SIGTERM) while one of them waited on its frozen vault ran on until the vault thawed.
A :class:`DaemonPool`'s threads are daemon threads that nothing joins: the process exits
without them, its connections close with it, and the database's server rolls back what they
had not committed. So a call run here must leave nothing half-done outside one database
transaction: a read, or one transaction's writes.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: A call waiting for a thread, and the future its caller holds.
_Call = tuple["Future[Any]", Callable[[], Any]]


class DaemonPool(Executor):
    """At most ``threads`` daemon threads named ``name-N``, started as calls need them."""

    def __init__(self, threads: int, name: str) -> None:
        """A pool that has started no thread yet."""
        self._most = threads
        self._name = name
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._started = 0

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on one of the pool's threads; its future.

        A call still queued when its future is cancelled is dropped, never run.
        """
        future: Future[T] = Future()
        self._calls.put((future, functools.partial(fn, *args, **kwargs)))
        self._add_thread()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let idle threads end; a thread waiting on its call is never joined, ``wait`` or not."""
        with self._lock:
            for _ in range(self._started):
                self._calls.put(None)

    def _add_thread(self) -> None:
        if self._idle.acquire(blocking=False):
            return  # an idle thread takes the call
        with self._lock:
            if self._started >= self._most:
                return
            self._started += 1
            name = f"{self._name}-{self._started}"
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            future, run = call
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(run())
                except BaseException as exc:  # the caller's to handle, as a pool's
                    future.set_exception(exc)
            self._idle.release()
