"""The last build of a costly view, built again no sooner than its pace allows.

A public view must not let anonymous requests make the worker, whose pipeline shares its CPU,
do work without bound. The front page reads the case heads, every case id of the audit store
and of the case table: about 0.1 s of the worker's time at 20,000 cases (``make bench``,
``public_pages.cached_read_ms``), whatever the request rate. So it is built by one request at
a time, and again only once ten times its last build's duration has passed
(:class:`streams.hub.case_scan.Pacing`); the requests meanwhile get the last build. A small
hub's page is built again within milliseconds; a national one's is a few seconds old at most,
and says when it was built. Its HTML is rendered once per build and language
(:meth:`Paced.derived`): rendered for each of 300 concurrent requests, it held the worker's
event loop, and with it ``/livez``, for 6.7 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar, cast

from streams.hub.case_scan import Pacing

T = TypeVar("T")
D = TypeVar("D")


class Paced(Generic[T]):
    """Serves the last value ``build`` made; builds anew, one at a time, as the pace allows."""

    def __init__(self, build: Callable[[], Awaitable[T]], pacing: Pacing | None = None) -> None:
        """Serve what ``build`` makes, paced by ``pacing`` (ten times a build's duration)."""
        self._build = build
        self._pacing = pacing or Pacing()
        self._building = asyncio.Lock()
        self._last: tuple[T] | None = None
        self._derived_from: tuple[T] | None = None
        self._derived: dict[Hashable, Any] = {}

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

    async def derived(self, key: Hashable, derive: Callable[[T], D]) -> D:
        """``derive(build)`` of the build :meth:`value` gives, made once per build and ``key``.

        ``key`` names what ``derive`` makes (e.g. the page in one language): one ``derive`` per
        key.
        """
        built = await self.value()  # the last build: nothing awaited since it was stored
        if self._derived_from is not self._last:
            self._derived_from, self._derived = self._last, {}
        if key not in self._derived:
            self._derived[key] = derive(built)
        return cast(D, self._derived[key])
