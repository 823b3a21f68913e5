"""The last projection of the trail, reused while the audit store has not grown.

The dashboard is public, and reading every case's facts costs about 0.25 s for the 8,000
entries of a regional election's 2,000 cases; computing the figures from the facts is cheap.
The store is append-only (erasure empties the vaulted values, never a row or the non-personal
fields read here), so the same number of entries means the same facts: the cache is never
stale, whatever the time, and needs no expiry.
"""

from __future__ import annotations

import threading

from sqlalchemy.exc import SQLAlchemyError

from schemas.codec import AvroCodec
from streams.audit.figures.facts import Projection, read_facts
from streams.audit.store import AuditStore, StoreError


class ProjectionCache:
    """Reads the facts of every case again only when entries were added since the last read."""

    def __init__(self, store: AuditStore, codec: AvroCodec) -> None:
        """Cache the projection of ``store``, decoded with ``codec``."""
        self._store = store
        self._codec = codec
        self._lock = threading.Lock()
        self._last: tuple[int, Projection] | None = None

    def projection(self) -> Projection:
        """The facts of every case as the store holds them now.

        Safe from several threads: two readers may both read the store, never a torn cache.

        Raises:
            StoreError: the store cannot be read.
        """
        # Counted before reading: entries added in between make the next count differ, so
        # a projection is only ever kept under a count it holds at least.
        try:
            entries = self._store.count()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the audit store: {exc.code or exc}") from exc
        with self._lock:
            if self._last is not None and self._last[0] == entries:
                return self._last[1]
        projection = read_facts(self._store, self._codec)
        with self._lock:
            self._last = (entries, projection)
        return projection
