"""The last read of the whole audit store, reused while the store has not grown, or not for long.

The public pages (front page, dashboard, register) project every case, and reading every
case's facts costs about 0.25 s for the 8,000 entries of a regional election's 2,000 cases and
about 1.3 s for 50,000 entries: CPU the worker's pipeline shares. The store is append-only
(erasure empties the vaulted values, never a row or a non-personal field), so the same number of
entries means the same non-personal facts, and a read is kept as long as the count holds.

Once the store has grown, it is read again only after ten times the last read's duration has
passed since that read (:data:`REREAD_SPACING`): readers then cost the worker at most about a
tenth of a core, whatever their number and the inflow. A small store is read again within
milliseconds; a national one shows figures up to some ten seconds old, which its readers say
(``Projection.read_at``, :meth:`StoreReadCache.latest`). One thread reads at a time; the others
meanwhile get the last read.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from streams.audit.store import AuditStore, StoreError
from streams.sql_engines import driver_said

#: After the store grew, seconds between two reads per second a read took.
REREAD_SPACING = 10.0

T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    """A read's value, the entry count it holds at least, when the read ended and its duration.

    ``read_at`` is when the read started (UTC): what a reader cites as the "as of" of the value,
    whenever it is served.
    """

    entries: int
    value: T
    ended: float
    took: float
    read_at: datetime


class StoreReadCache(Generic[T]):
    """Calls ``read`` again only when entries were added to the store, at a bounded rate."""

    def __init__(
        self,
        store: AuditStore,
        read: Callable[[], T],
        *,
        spacing: float = REREAD_SPACING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Cache what ``read`` makes of ``store``.

        Args:
            store: the audit store whose entry count says whether it grew.
            read: reads the store (blocking).
            spacing: after growth, wait this many times the last read's duration to read again.
            clock: monotonic seconds (tests pass their own).
        """
        self._store = store
        self._read = read
        self._spacing = spacing
        self._clock = clock
        self._reading = threading.Lock()
        self._last: Read[T] | None = None

    def value(self) -> T:
        """What ``read`` makes of the store as it is now, or as it was lately.

        Raises:
            StoreError: the store cannot be read.
        """
        return self.latest().value

    def latest(self) -> Read[T]:
        """The read of the store as it is now, or as it was lately, with when it was read.

        Safe from several threads: one reads the store, the others get the last read.

        Raises:
            StoreError: the store cannot be read.
        """
        # Counted before reading: entries added in between make the next count differ, so
        # a read is only ever kept under a count it holds at least.
        entries = self._count()
        last = self._last
        if last is not None and not self._due(last, entries):
            return last
        # While another thread reads, the last read will do; with none yet, wait for it.
        if last is not None and not self._reading.acquire(blocking=False):
            return last
        if last is None:
            self._reading.acquire()
        try:
            last = self._last  # another thread may have read while this one waited
            if last is not None and not self._due(last, entries):
                return last
            read_at = datetime.now(UTC)
            started = self._clock()
            value = self._read()
            ended = self._clock()
            self._last = Read(entries, value, ended, ended - started, read_at)
            return self._last
        finally:
            self._reading.release()

    def _count(self) -> int:
        try:
            return self._store.count()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the audit store: {driver_said(exc)}") from exc

    def _due(self, last: Read[T], entries: int) -> bool:
        """Whether ``entries`` differ from the last read's and its spacing has passed."""
        grown = last.entries != entries
        return grown and self._clock() - last.ended >= self._spacing * last.took
