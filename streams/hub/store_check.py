"""Whether the audit store answers, checked between transactions too (``kawal_audit_store_up``).

The sink set the gauge with each transaction, and the worker never: a store that went down
while nothing was to be stored left it at 1, and KawalAuditStoreUnreachable quiet, until the
next event. Every hub process asks the store a trivial query every :data:`CHECK_SECONDS`, and
says in its log when the store stops and starts answering (once each, not every check).

A database that is frozen (its processes stopped, its disk hung, a network path dropping
packets) refuses nothing: a query on it waits forever. A check unanswered within
:data:`ANSWER_SECONDS` counts as a store that does not answer, and the next checks wait on the
same query rather than start more, so a frozen store holds one thread, not one per check.
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
#: Seconds a check waits for the store's answer: a trivial query takes milliseconds, and a
#: PostgreSQL connection a few; ten is far beyond either on a loaded machine.
ANSWER_SECONDS = 10.0


class StoreCheck:
    """Asks the store whether it answers, keeps the gauge, and logs each change."""

    def __init__(
        self, store: AuditStore, metrics: HubMetrics, answer_seconds: float = ANSWER_SECONDS
    ) -> None:
        """Check ``store``, waiting ``answer_seconds`` for its answer; set ``metrics.store_up``."""
        self._store = store
        self._metrics = metrics
        self._answer_seconds = answer_seconds
        self._answered = True  # every process reached the store before it started
        self._asking: asyncio.Future[None] | None = None

    @property
    def answered(self) -> bool:
        """Whether the store answered the last check."""
        return self._answered

    async def check(self) -> None:
        """Ask the store once; a change from the last check is logged."""
        try:
            await asyncio.wait_for(asyncio.shield(self._question()), self._answer_seconds)
        except StoreError as exc:
            self._failed(str(exc))
            return
        except TimeoutError:
            self._failed(
                f"no answer within {self._answer_seconds:.0f} s: the database is frozen, "
                "overloaded or cut off"
            )
            return
        if not self._answered:
            log.warning("the audit store answers again")
        self._changed(answered=True)

    def _question(self) -> asyncio.Future[None]:
        """The query in flight, or a new one once the last has ended."""
        if self._asking is None or self._asking.done():
            self._asking = asyncio.ensure_future(asyncio.to_thread(self._store.answers))
            # Read what a query that ended after its check gave up raised: nothing else does.
            self._asking.add_done_callback(_retrieve)
        return self._asking

    def _failed(self, why: str) -> None:
        if self._answered:
            log.error(
                "the audit store does not answer (%s); trails are answered 503 and the "
                "sink holds its batches until it does; see "
                "docs/operations.md#kawalauditstoreunreachable",
                why,
            )
        self._changed(answered=False)

    def _changed(self, *, answered: bool) -> None:
        self._answered = answered
        self._metrics.store_checked(answered)


def _retrieve(asked: asyncio.Future[None]) -> None:
    if not asked.cancelled():
        asked.exception()


def register_store_check(
    app: faust.App, store: AuditStore, metrics: HubMetrics, interval: float = CHECK_SECONDS
) -> StoreCheck:
    """Check ``store`` every ``interval`` seconds while ``app`` runs; the check is returned."""
    check = StoreCheck(store, metrics)
    app.timer(interval, name="kawal.store-check")(check.check)
    return check
