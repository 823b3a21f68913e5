"""Whether the audit store answers, checked between transactions too (``kawal_audit_store_up``).

The sink set the gauge with each transaction, and the worker never: a store that went down
while nothing was to be stored left it at 1, and KawalAuditStoreUnreachable quiet, until the
next event. Every hub process asks the store a trivial query every :data:`CHECK_SECONDS`, and
says in its log when the store stops and starts answering (once each, not every check).
"""

from __future__ import annotations

import asyncio
import logging

import faust

from monitoring.metrics import HubMetrics
from streams.audit.store import AuditStore, StoreError

log = logging.getLogger(__name__)

#: Seconds between two checks: the alert waits a minute, so several checks fall within it.
CHECK_SECONDS = 5.0


class StoreCheck:
    """Asks the store whether it answers, keeps the gauge, and logs each change."""

    def __init__(self, store: AuditStore, metrics: HubMetrics) -> None:
        """Check ``store``; set ``metrics.store_up``."""
        self._store = store
        self._metrics = metrics
        self._answered = True  # every process reached the store before it started

    async def check(self) -> None:
        """Ask the store once; a change from the last check is logged."""
        try:
            await asyncio.to_thread(self._store.answers)
        except StoreError as exc:
            if self._answered:
                log.error(
                    "the audit store does not answer (%s); trails are answered 503 and the "
                    "sink holds its batches until it does; see "
                    "docs/operations.md#kawalauditstoreunreachable",
                    exc,
                )
            self._changed(answered=False)
            return
        if not self._answered:
            log.warning("the audit store answers again")
        self._changed(answered=True)

    def _changed(self, *, answered: bool) -> None:
        self._answered = answered
        self._metrics.store_checked(answered)


def register_store_check(
    app: faust.App, store: AuditStore, metrics: HubMetrics, interval: float = CHECK_SECONDS
) -> None:
    """Check ``store`` every ``interval`` seconds while ``app`` runs."""
    app.timer(interval, name="kawal.store-check")(StoreCheck(store, metrics).check)
