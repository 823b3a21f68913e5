"""The last build of a costly view, built again no sooner than its pace allows.

A public view must not let anonymous requests make the worker, whose pipeline shares its CPU,
do work without bound. The front page reads the case heads, every case id of the audit store
and of the case table: about 0.1 s of the worker's time at 20,000 cases (``make bench``,
``public_pages.cached_read_ms``), whatever the request rate. So it is built by one request at
a time, and again only once ten times its last build's duration has passed
(:class:`streams.hub.case_scan.Pacing`); the requests meanwhile get the last build. A small
hub's page is built again within milliseconds; a national one's is a few seconds old at most,
and says when it was built.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from streams.hub.case_scan import Pacing

T = TypeVar("T")


class Paced(Generic[T]):
    """Serves the last value ``build`` made; builds anew, one at a time, as the pace allows."""

    def __init__(self, build: Callable[[], Awaitable[T]], pacing: Pacing | None = None) -> None:
        """Serve what ``build`` makes, paced by ``pacing`` (ten times a build's duration)."""
        self._build = build
        self._pacing = pacing or Pacing()
        self._building = asyncio.Lock()
        self._last: tuple[T] | None = None

    async def value(self) -> T:
        """A build no older than its pace allows; the first caller of a new one builds it."""
        last = self._last
        if last is not None and (self._building.locked() or not self._pacing.due()):
            return last[0]
        async with self._building:
            last = self._last  # built by the request this one waited for
            if last is not None and not self._pacing.due():
                return last[0]
            with self._pacing.timing():
                built = await self._build()
            self._last = (built,)
            return built
