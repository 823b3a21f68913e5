"""Reading every case of the case table without holding up the pipeline.

The case table is read on the event loop, its owner, where the pipeline runs too. A look at
every case (the case census, the retention timer, the triage) costs tens of microseconds a
case: seconds at 100,000 cases. Read in one go, it would hold every batch of events back for
all that time. So these readers take the cases a page at a time and give the loop back between
pages: a batch waits for one page at most (a few milliseconds). A page of a RocksDB table is
read with an iterator of its own (:func:`streams.hub.case_store.case_page`), none is held
while the loop runs others, and a partition this worker stops holding meanwhile is left there.

A look repeated on a timer is paced too (:class:`Pacing`): it waits at least
:data:`PACE` times its last duration before the next, so however many cases the worker
holds, looking takes at most a small share of its time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from streams.hub.case_store import active_partitions, case_page, iter_cases

#: Cases read between two turns of the other tasks of the event loop.
PAGE_SIZE = 200
#: How many times its last duration a repeated look waits before the next.
PACE = 10.0


async def each_case(table: Any, page_size: int = PAGE_SIZE) -> AsyncIterator[tuple[str, Any]]:
    """Every case of ``table`` (a Faust table) with its value, a page at a time.

    Between pages the event loop runs its other tasks. A case written meanwhile may be seen
    as it was or as it is; a case of a partition the worker no longer holds is not seen.
    """
    partitions = active_partitions(table)
    if partitions is None:
        cases = list(iter_cases(table))  # a memory table: listed first, as the pipeline writes
        for start in range(0, len(cases), page_size):
            for item in cases[start : start + page_size]:
                yield item
            await asyncio.sleep(0)
        return
    for partition in partitions:
        after: bytes | None = None
        while (page := case_page(table, partition, after, page_size)) is not None:
            for key, value in page:
                yield json.loads(key), value
            await asyncio.sleep(0)
            if len(page) < page_size:
                break
            after = page[-1][0]


class Pacing:
    """When a repeated look may run again: once :data:`PACE` times its last duration passed."""

    def __init__(self, pace: float = PACE, clock: Callable[[], float] = time.monotonic) -> None:
        """Pace looks at ``pace`` times their duration, timed by ``clock`` (seconds)."""
        self._pace = pace
        self._clock = clock
        self._next = 0.0
        #: How long the last look took, in seconds (0 before the first).
        self.last_seconds = 0.0

    def due(self) -> bool:
        """Whether a look may start now."""
        return self._clock() >= self._next

    @contextmanager
    def timing(self) -> Iterator[None]:
        """Time the look run inside; the next is due :data:`PACE` times its duration later."""
        started = self._clock()
        try:
            yield
        finally:
            ended = self._clock()
            self.last_seconds = ended - started
            self._next = ended + self._pace * self.last_seconds
