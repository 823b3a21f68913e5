"""Whether the audit store answers, checked between transactions too (``kawal_audit_store_up``).

The sink set the gauge with each transaction, and the worker never: a store that went down
while nothing was to be stored left it at 1, and KawalAuditStoreUnreachable quiet, until the
next event. Every hub process asks the store a trivial query every :data:`CHECK_SECONDS`, and
says in its log when the store stops and starts answering (once each, not every check).

A database that is frozen (its processes stopped, its disk hung, a network path dropping
packets) refuses nothing: a query on it waits forever. A check unanswered within
:data:`ANSWER_SECONDS` counts as a store that does not answer, and the next checks wait on the
same query rather than start more, so a frozen store holds one thread, not one per check;
a daemon thread (:mod:`streams.daemon_pool`), so a process stopped meanwhile does not wait
for it at exit.
:class:`AnswerCheck` is that machinery for any database the hub asks (the data-key vault's
check, :mod:`streams.hub.vault_check`, is another).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import faust

from monitoring.metrics import HubMetrics
from streams.audit.store import AuditStore, StoreError
from streams.daemon_pool import DaemonPool

log = logging.getLogger(__name__)

#: Seconds between two checks: the alert waits a minute, so several checks fall within it.
CHECK_SECONDS = 5.0
#: Seconds a check waits for the store's answer: a trivial query takes milliseconds, and a
#: PostgreSQL connection a few; ten is far beyond either on a loaded machine.
ANSWER_SECONDS = 10.0


@dataclass(frozen=True)
class Checked:
    """What a check asks and how it reports: the question, the gauge, the log's words."""

    #: A trivial query; it raises one of ``refusals`` when the database refuses.
    question: Callable[[], object]
    #: Sets the gauge: True when the database answered.
    record: Callable[[bool], None]
    refusals: tuple[type[Exception], ...]
    #: The database, as the log names it ("the audit store").
    name: str
    #: What its silence does to the hub, and where the runbook is, for the log.
    consequence: str
    logger: logging.Logger


class AnswerCheck:
    """Asks a database whether it answers, keeps its gauge, and logs each change."""

    def __init__(self, checked: Checked, answer_seconds: float = ANSWER_SECONDS) -> None:
        """Ask ``checked.question``, waiting ``answer_seconds`` for its answer."""
        self._checked = checked
        self._answer_seconds = answer_seconds
        self._answered = True  # every process reached its databases before it started
        self._asking: asyncio.Future[object] | None = None
        self._thread = DaemonPool(1, "kawal-check")

    @property
    def answered(self) -> bool:
        """Whether the database answered the last check."""
        return self._answered

    async def check(self) -> None:
        """Ask the database once; a change from the last check is logged."""
        try:
            await asyncio.wait_for(asyncio.shield(self._question()), self._answer_seconds)
        except self._checked.refusals as exc:
            self._failed(str(exc))
            return
        except TimeoutError:
            self._failed(
                f"no answer within {self._answer_seconds:.0f} s: the database is frozen, "
                "overloaded or cut off"
            )
            return
        if not self._answered:
            self._checked.logger.warning("%s answers again", self._checked.name)
        self._changed(answered=True)

    def _question(self) -> asyncio.Future[object]:
        """The query in flight, or a new one once the last has ended."""
        if self._asking is None or self._asking.done():
            loop = asyncio.get_running_loop()
            self._asking = loop.run_in_executor(self._thread, self._checked.question)
            # Read what a query that ended after its check gave up raised: nothing else does.
            self._asking.add_done_callback(_retrieve)
        return self._asking

    def _failed(self, why: str) -> None:
        if self._answered:
            checked = self._checked
            checked.logger.error(
                "%s does not answer (%s); %s", checked.name, why, checked.consequence
            )
        self._changed(answered=False)

    def _changed(self, *, answered: bool) -> None:
        self._answered = answered
        self._checked.record(answered)


class StoreCheck(AnswerCheck):
    """Asks the audit store whether it answers; sets ``kawal_audit_store_up``."""

    def __init__(
        self, store: AuditStore, metrics: HubMetrics, answer_seconds: float = ANSWER_SECONDS
    ) -> None:
        """Check ``store``, waiting ``answer_seconds`` for its answer; set ``metrics.store_up``."""
        checked = Checked(
            question=store.answers,
            record=metrics.store_checked,
            refusals=(StoreError,),
            name="the audit store",
            consequence=(
                "trails are answered 503 and the sink holds its batches until it does; see "
                "docs/operations.md#kawalauditstoreunreachable"
            ),
            logger=log,
        )
        super().__init__(checked, answer_seconds)


def _retrieve(asked: asyncio.Future[object]) -> None:
    if not asked.cancelled():
        asked.exception()


def register_check(app: faust.App, check: AnswerCheck, name: str, interval: float) -> None:
    """Run ``check`` every ``interval`` seconds while ``app`` runs, as timer ``name``."""
    app.timer(interval, name=name)(check.check)


def register_store_check(
    app: faust.App, store: AuditStore, metrics: HubMetrics, interval: float = CHECK_SECONDS
) -> StoreCheck:
    """Check ``store`` every ``interval`` seconds while ``app`` runs; the check is returned."""
    check = StoreCheck(store, metrics)
    register_check(app, check, "kawal.store-check", interval)
    return check
