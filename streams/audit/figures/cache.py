"""The dashboard's and the front page's projection, read again at a bounded rate.

See :mod:`streams.audit.read_cache` for when the store is read again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from schemas.codec import AvroCodec
from streams.audit.figures.facts import Projection, read_facts
from streams.audit.read_cache import REREAD_SPACING, StoreReadCache
from streams.audit.store import AuditStore


class ProjectionCache(StoreReadCache[Projection]):
    """The facts of every case (:func:`~streams.audit.figures.facts.read_facts`), cached."""

    def __init__(
        self,
        store: AuditStore,
        codec: AvroCodec,
        *,
        spacing: float = REREAD_SPACING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Cache the projection of ``store``, decoded with ``codec`` (see the base for the rest)."""
        self._codec = codec
        super().__init__(store, self._read_facts, spacing=spacing, clock=clock)

    def projection(self) -> Projection:
        """The facts of every case as the store holds them now, or as it held them lately.

        Raises:
            StoreError: the store cannot be read.
        """
        return self.value()

    def _read_facts(self) -> Projection:
        return read_facts(self._store, self._codec)
