"""The dashboard's figures and pages, made once per projection read, filters and language.

The dashboard is public. Each request computed its figures in a thread and rendered its page
on the worker's event loop, so 300 concurrent requests held ``/livez`` (and the pipeline,
which shares the loop) for over a second. Here one computation runs at a time; the figures of
a filter set are kept until the projection is read again (:mod:`streams.audit.figures.cache`),
and its page once per language, so a request for what was just made costs a lookup. At most
:data:`KEPT` filter sets are kept, the least recently asked for going first: varied filters
cost computations one after another, never memory without bound.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streams.audit.figures.facts import Projection
from streams.audit.figures.filters import Filters
from streams.web.locales import Locale

#: Filter sets whose figures and pages are kept.
KEPT = 64

#: The figures of a projection for some filters (blocking: run in a thread).
Compute = Callable[[Projection, Filters], dict[str, Any]]


@dataclass
class _Kept:
    """The figures of one filter set, and its page in each language rendered so far."""

    figures: dict[str, Any]
    pages: dict[Locale, str] = field(default_factory=dict)


class FigureCache:
    """Figures per filter set and pages per language, computed one at a time."""

    def __init__(
        self, projection: Callable[[], Projection], compute: Compute, kept: int = KEPT
    ) -> None:
        """Serve ``compute(projection(), filters)``; keep ``kept`` filter sets.

        ``projection`` returns the same object while the store has not been read again.
        """
        self._projection = projection
        self._compute = compute
        self._kept_count = kept
        self._lock = asyncio.Lock()
        self._of: Projection | None = None
        self._kept: OrderedDict[Filters, _Kept] = OrderedDict()

    async def figures(self, filters: Filters) -> dict[str, Any]:
        """The figures for ``filters`` of the latest projection.

        Raises:
            StoreError: the store cannot be read.
        """
        return (await self._entry(filters)).figures

    async def page(
        self, filters: Filters, locale: Locale, render: Callable[[dict[str, Any]], str]
    ) -> str:
        """``render(figures)`` for ``filters``, rendered once per language and figures.

        Raises:
            StoreError: the store cannot be read.
        """
        entry = await self._entry(filters)
        page = entry.pages.get(locale)
        if page is None:
            page = entry.pages[locale] = render(entry.figures)
        return page

    async def _entry(self, filters: Filters) -> _Kept:
        async with self._lock:
            projection = await asyncio.to_thread(self._projection)
            if projection is not self._of:
                self._of, self._kept = projection, OrderedDict()
            entry = self._kept.get(filters)
            if entry is None:
                figures = await asyncio.to_thread(self._compute, projection, filters)
                entry = self._kept[filters] = _Kept(figures)
                if len(self._kept) > self._kept_count:
                    self._kept.popitem(last=False)
            self._kept.move_to_end(filters)
            return entry
