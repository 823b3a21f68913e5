"""Whether the broker answers this process: ``/readyz`` and ``kawal_broker_unanswered_seconds``.

Every hub process (the worker and the sink alike) asks the broker for its cluster's description
every :data:`~streams.broker.silence.CHECK_SECONDS` off the event loop
(:mod:`streams.broker.silence` says why that question); Faust's consumer and producer, which
wait on their requests, would raise nothing while a frozen broker holds the whole hub still.
Each question waits ``KAWAL_BROKER_WAIT_SECONDS``, and twice that without an answer makes the
process not ready, as for connectors: a broker known to be slow gets a longer wait everywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust

from monitoring.metrics import HubMetrics
from streams.broker.endpoint import BrokerEndpoint
from streams.broker.silence import (
    CHECK_SECONDS,
    UNANSWERED_SECONDS,
    BrokerQuestion,
    BrokerSilence,
    unanswered_grace,
)


class BrokerCheck(BrokerSilence):
    """Asks the broker from the event loop, keeps its silence and exports it.

    Args:
        ask: Asks the broker once, raising when it does not answer (blocking).
        metrics: Whose ``kawal_broker_unanswered_seconds`` follows :meth:`unanswered_for`.
        grace: Seconds without an answer after which the process is not ready.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        ask: Callable[[], None],
        metrics: HubMetrics,
        grace: float = UNANSWERED_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # The worker asks from a Faust timer, which starts only once its tables are recovered:
        # counted from its start, a recovery of minutes read as the broker not answering (a
        # page, /readyz 503) while the broker served it.
        super().__init__(grace, clock=clock, from_first_question=True)
        self._question = ask
        # A thread of its own: long lag readings or store calls in the shared executor
        # must not hold a question back, which would look like a silent broker.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="kawal-broker-check")
        metrics.follow_broker(self.unanswered_for, grace)

    async def check(self) -> None:
        """Ask the broker once, off the event loop; a change from the last check is logged."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._question)
        except Exception as exc:
            self.unanswered(exc)
            return
        self.answered()


def register_broker_check(
    app: faust.App,
    endpoint: BrokerEndpoint,
    security: Mapping[str, Any] | None,
    metrics: HubMetrics,
    wait: float,
) -> BrokerCheck:
    """Ask the broker of ``endpoint`` every :data:`CHECK_SECONDS` while ``app`` runs.

    Each question waits ``wait`` seconds for its answer; twice that unanswered is the grace.
    """
    question = BrokerQuestion(endpoint.bootstrap, security, wait)
    check = BrokerCheck(question, metrics, grace=unanswered_grace(wait))
    app.timer(CHECK_SECONDS, name="kawal.broker-check")(check.check)
    return check
