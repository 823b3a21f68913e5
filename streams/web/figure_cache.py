"""The dashboard's figures and pages, made once per projection read, filters and language.

The dashboard is public. Each request computed its figures in a thread and rendered its page
on the worker's event loop, so 300 concurrent requests held ``/livez`` (and the pipeline,
which shares the loop) for over a second. Here one computation runs at a time; the figures of
a filter set are kept until the projection is read again (:mod:`streams.audit.figures.cache`),
and its page once per language, so a request for what was just made costs a lookup. At most
:data:`KEPT` filter sets are kept, the least recently asked for going first: varied filters
cost computations one after another, never memory without bound.

A PPK reading with its credential gets its own row of the follow-up rate unwithheld
(:mod:`streams.audit.figures.own_row`): its figures and pages are kept under its id beside the
public ones of the same filters, so no reader is ever served another audience's view.
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
#: The public figures of a projection and filters as one audience (a PPK's id) sees them.
Audience = Callable[[dict[str, Any], Projection, Filters, str], dict[str, Any]]
#: Who a view is for: None for the public, else the PPK whose own row it shows.
Key = tuple[Filters, str | None]


@dataclass
class _Kept:
    """The figures of one filter set for one audience, and its page in each language so far."""

    figures: dict[str, Any]
    #: The public figures of the same filters (``figures`` itself for the public).
    public: dict[str, Any]
    pages: dict[Locale, str] = field(default_factory=dict)


class FigureCache:
    """Figures per filter set and pages per language, computed one at a time."""

    def __init__(
        self,
        projection: Callable[[], Projection],
        compute: Compute,
        kept: int = KEPT,
        audience: Audience | None = None,
    ) -> None:
        """Serve ``compute(projection(), filters)``; keep ``kept`` filter sets and audiences.

        ``projection`` returns the same object while the store has not been read again.
        ``audience(public, projection, filters, reader)`` makes a reader's view of the public
        figures; without it, every reader gets the public view.
        """
        self._projection = projection
        self._compute = compute
        self._audience = audience
        self._kept_count = kept
        self._lock = asyncio.Lock()
        self._of: Projection | None = None
        self._kept: OrderedDict[Key, _Kept] = OrderedDict()

    async def figures(self, filters: Filters, reader: str | None = None) -> dict[str, Any]:
        """The figures for ``filters`` of the latest projection, as ``reader`` sees them.

        Args:
            filters: which cases.
            reader: None for the public view, else the PPK whose own row the view shows.

        Raises:
            StoreError: the store cannot be read.
        """
        return (await self._entry(filters, reader)).figures

    async def page(
        self,
        filters: Filters,
        locale: Locale,
        render: Callable[[dict[str, Any], dict[str, Any]], str],
        reader: str | None = None,
    ) -> str:
        """``render(figures, public figures)`` for ``filters`` and ``reader``, once per language.

        Raises:
            StoreError: the store cannot be read.
        """
        entry = await self._entry(filters, reader)
        page = entry.pages.get(locale)
        if page is None:
            page = entry.pages[locale] = render(entry.figures, entry.public)
        return page

    async def _entry(self, filters: Filters, reader: str | None) -> _Kept:
        async with self._lock:
            projection = await asyncio.to_thread(self._projection)
            if projection is not self._of:
                self._of, self._kept = projection, OrderedDict()
            public = self._kept_entry((filters, None))
            if public is None:
                figures = await asyncio.to_thread(self._compute, projection, filters)
                public = self._keep((filters, None), _Kept(figures, figures))
            if reader is None or self._audience is None:
                return public
            entry = self._kept_entry((filters, reader))
            if entry is None:
                figures = await asyncio.to_thread(
                    self._audience, public.figures, projection, filters, reader
                )
                entry = self._keep((filters, reader), _Kept(figures, public.figures))
            return entry

    def _kept_entry(self, key: Key) -> _Kept | None:
        """The entry kept under ``key``, now the most recently asked for, or None."""
        entry = self._kept.get(key)
        if entry is not None:
            self._kept.move_to_end(key)
        return entry

    def _keep(self, key: Key, entry: _Kept) -> _Kept:
        self._kept[key] = entry
        self._kept.move_to_end(key)
        if len(self._kept) > self._kept_count:
            self._kept.popitem(last=False)
        return entry
