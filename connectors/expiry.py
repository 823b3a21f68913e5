"""When a connector deletes what it keeps past its retention.

Connectors that keep copies of their institution's records on disk (the Bawaslu webhook's
spool, the inspectorate's processed batches) delete them in :meth:`Connector.expire`. The
runtime calls it from the connector's own loop: once at start, then at most every
:data:`EXPIRY_INTERVAL`, so nothing else has to be scheduled and a stopped connector deletes
nothing behind anyone's back. Retention is counted in days, so a check every few minutes is
far more often than needed and costs one small query or folder listing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from connectors.base import Connector, ConnectorConfig

log = logging.getLogger(__name__)

#: Longest time between two calls of a connector's :meth:`~Connector.expire`.
EXPIRY_INTERVAL = timedelta(minutes=10)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class ExpirySchedule:
    """Calls a connector's ``expire`` when due; the loop asks on every round.

    Args:
        connector: The connector whose kept files expire.
        interval: Least time between two calls.
        clock: The current time (tests move it on instead of waiting).
    """

    def __init__(
        self,
        connector: Connector[ConnectorConfig],
        interval: timedelta = EXPIRY_INTERVAL,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.connector = connector
        self.interval = interval
        self.clock = clock
        self._due: datetime | None = None  # None: not run yet, so due at once

    def run_if_due(self) -> bool:
        """Call ``expire`` if ``interval`` has passed since the last call; return whether it ran.

        A failure is logged and tried again at the next interval: deleting expired copies must
        never stop the connector from moving records.
        """
        now = self.clock()
        if self._due is not None and now < self._due:
            return False
        self._due = now + self.interval
        try:
            self.connector.expire(now)
        except Exception as exc:
            log.error(
                "%s: deleting what is past its retention failed (%s); tried again in %d min",
                self.connector.name,
                type(exc).__name__,
                self.interval // timedelta(minutes=1),
            )
        return True
