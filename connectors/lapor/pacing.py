"""How slowly a request's body may come: a reporter on a weak link gets through, a slow-loris not.

A phone photo of 417 KB sent over EDGE at 3 KB/s takes over two minutes; the portal once
refused any body slower than 8 KiB/s, so a reporter in a small town lost a report and
everything typed into it. A body that comes slowly is also what a slow-loris attack sends to
hold connections open. So a body is watched as it comes (:func:`paced`):

- its first ``grace`` seconds (the portal's ``idle_seconds``) are not measured: a weak link
  starts slowly;
- after them it must keep :data:`FLOOR_RATE` on average since it began, so a body of a declared
  size is done by ``grace + size / FLOOR_RATE`` at the latest, and one that only trickles is cut
  as soon as it falls behind;
- nothing may come for ``grace`` seconds in a row (a stall): a link that dropped gains nothing
  by waiting out the average;
- a body slower than :data:`FAST_RATE` holds one of a few slots (:class:`SlowBodies`), per
  source and overall: a body that finds none is refused at once, so slow connections cannot
  pile up, while bodies at an ordinary speed never wait on them. Its refusal says when to send
  again (``Retry-After``): when the first of the slots in its way is expected to be free, at
  the pace its body has kept so far, and never later than the floor lets it last.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from connectors.lapor import refusals
from connectors.lapor.intake import IntakeRefusedError

#: The slowest body taken after the grace, on average, in bytes per second (about 8 kbit/s:
#: below what a weak 2G/EDGE link carries, above what a slow-loris needs to send).
FLOOR_RATE = 1024
#: A body slower than this (64 kbit/s) after the grace is slow and holds a slot.
FAST_RATE = 8 * 1024
#: Slow bodies one source may send at once: a few, as reporters behind one mobile carrier's
#: shared address (carrier-grade NAT) may send at the same time.
MAX_SLOW_PER_SOURCE = 4
#: Slow bodies read at once, from every source: each holds a connection for minutes.
MAX_SLOW = 64
#: Seconds between two looks at a body's progress.
POLL_SECONDS = 0.25

_T = TypeVar("_T")


@dataclass
class _Progress:
    """What a body's watcher knows of it (times in the loop's seconds)."""

    started: float
    last_change: float
    size: int
    """The most the body may hold: its declared length, else the portal's limit."""
    grace: float
    received: int = 0
    slow: bool = False

    def done_by(self, now: float) -> float:
        """When the body is expected to be read whole: at its pace so far, by the floor's end.

        The floor's end (``grace + size / FLOOR_RATE`` after it began) is the latest it can be
        read or cut; one that keeps its pace is done sooner.
        """
        latest = self.started + self.grace + self.size / FLOOR_RATE
        elapsed = now - self.started
        if self.received <= 0 or elapsed <= 0:
            return latest
        at_pace = now + max(self.size - self.received, 0) * elapsed / self.received
        return min(at_pace, latest)


@dataclass
class SlowBodies:
    """The slots of slow bodies being read, per source and overall (on the portal's loop)."""

    per_source: int = MAX_SLOW_PER_SOURCE
    overall: int = MAX_SLOW
    _held: dict[str, list[_Progress]] = field(default_factory=dict)

    def take(self, source: str, body: _Progress) -> bool:
        """Take a slot for ``body``, a slow body of ``source``; False when none is free."""
        if sum(map(len, self._held.values())) >= self.overall:
            return False
        if len(self._held.get(source, [])) >= self.per_source:
            return False
        self._held.setdefault(source, []).append(body)
        return True

    def give_back(self, source: str, body: _Progress) -> None:
        """Free the slot ``body`` of ``source`` took."""
        self._held[source].remove(body)
        if not self._held[source]:
            del self._held[source]

    def free_in(self, source: str, now: float) -> int:
        """Seconds (at least 1) until ``source`` is expected to find a slot free.

        The source's own slots stand in its way when it holds all it may (one of them ending
        frees an overall slot too); else every slot does.
        """
        own = self._held.get(source, [])
        in_way = (
            own
            if len(own) >= self.per_source
            else [b for held in self._held.values() for b in held]
        )
        if not in_way:
            return 1
        return max(1, math.ceil(min(body.done_by(now) for body in in_way) - now))


async def paced(
    read: Awaitable[_T],
    received: Callable[[], int],
    size: int,
    grace: float,
    slots: SlowBodies,
    source: str,
) -> _T:
    """``read`` of a body, watched: refused if it comes too slowly (see the module).

    Args:
        read: what reads the body (``request.post()``, ``request.read()``).
        received: the body's bytes come in so far (``request.content.total_bytes``).
        size: the most the body may hold (its ``Content-Length``, else the portal's limit).
        grace: seconds not measured at first; also the longest stall taken.
        slots: the slow bodies' slots of the portal.
        source: who sends it, for its share of the slots.

    Raises:
        IntakeRefusedError: 408 ``too_slow``, under the floor or stalled; 503 ``slow_busy``,
            slow while every slot of its source or of the portal is taken, with the seconds
            until one is expected to be free (``retry_after``).
    """
    task = asyncio.ensure_future(read)
    loop = asyncio.get_running_loop()
    progress = _Progress(loop.time(), loop.time(), size, grace)
    try:
        while not (await asyncio.wait({task}, timeout=POLL_SECONDS))[0]:
            _check(progress, received(), loop.time(), slots, source)
        return task.result()
    finally:
        task.cancel()  # a body refused is read no further
        if progress.slow:
            slots.give_back(source, progress)


def _check(progress: _Progress, received: int, now: float, slots: SlowBodies, source: str) -> None:
    """Refuse the body if ``received`` bytes at ``now`` fall short (see :func:`paced`)."""
    if received != progress.received:
        progress.received, progress.last_change = received, now
    grace = progress.grace
    measured = now - progress.started - grace
    if now - progress.last_change > grace or received < FLOOR_RATE * measured:
        raise IntakeRefusedError(408, *refusals.TOO_SLOW)
    if not progress.slow and received < FAST_RATE * measured:
        if not slots.take(source, progress):
            wait = slots.free_in(source, now)
            raise IntakeRefusedError(503, *refusals.slow_busy(wait), retry_after=wait)
        progress.slow = True
