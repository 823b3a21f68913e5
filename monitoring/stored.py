"""``kawal_audit_last_stored_timestamp_seconds``: when the audit sink last stored a new entry.

``kawal_events_total{stage="sink"}`` says how many entries the sink stored since it started, not
when the last one was: an operator asking ``kawal status`` why the trail lags needs the age of
the last write, and a sink stuck before its first write must not look fresh, so the gauge is 0
until then. Only the sink exports it: the worker stores no entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge

#: The series' name, which ``kawal status`` reads (:mod:`streams.status.sink_checks`).
LAST_STORED = "kawal_audit_last_stored_timestamp_seconds"


class StoredEntries:
    """Keeps the moment the sink's last transaction that added an entry committed."""

    def __init__(self, registry: CollectorRegistry, clock: Callable[[], float] = time.time) -> None:
        """Add the gauge to ``registry``, at 0 (nothing stored yet by this process)."""
        self._clock = clock
        self._gauge = Gauge(
            LAST_STORED,
            "When the audit sink last committed a transaction that added a trail entry (seconds "
            "since the epoch; 0: none since it started). Its age grows while entries wait.",
            registry=registry,
        )

    def stored(self, new: int) -> None:
        """Record a committed batch that added ``new`` entries (none: nothing changes)."""
        if new:
            self._gauge.set(self._clock())
