"""Whether the broker answers this process: ``/readyz`` and ``kawal_broker_unanswered_seconds``.

A broker that stops answering without closing its connections (a frozen tansu, a hung host, a
network that drops packets) raises nothing anywhere: Faust's consumer and producer wait on
their requests, and every process answered ``/readyz`` ok while the whole hub stood still. The
lag reading is no answer: only the worker reads it, and at national size one reading asks
thousands of partitions, so a slow broker would look like a silent one. Every hub process
(the worker and the sink alike) asks the broker for its cluster's description instead, the
same small question whatever the number of topics, every :data:`CHECK_SECONDS` off the event
loop, through one client kept between questions; it keeps when the broker last answered, and
says in its log when the broker stops and starts answering (once each, not every check).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import faust
from kafka import KafkaAdminClient

from monitoring.metrics import HubMetrics
from streams.broker.endpoint import BROKER_WAIT_SECONDS, BrokerEndpoint, kafka_client

log = logging.getLogger(__name__)

#: Seconds between two questions: several fall within the silence that degrades readiness.
CHECK_SECONDS = 5.0
#: How long the broker may leave this process unanswered before ``/readyz`` is 503, in seconds:
#: two whole waits of a question (each waits :data:`BROKER_WAIT_SECONDS`, what every client of
#: the hub waits). A slow broker answers within one wait and resets it, so it never flaps
#: readiness; a silent one is reported within about half a minute, two lag readings' time.
UNANSWERED_SECONDS = 2 * BROKER_WAIT_SECONDS


class BrokerQuestion:
    """Asks the broker to describe its cluster, through a client kept between questions.

    A question that fails closes the client: the next one builds another, so a broker that
    comes back at another address, or a client left in a bad state, is not asked for ever.
    """

    def __init__(
        self,
        endpoint: BrokerEndpoint,
        security: Mapping[str, Any] | None = None,
        wait: float = BROKER_WAIT_SECONDS,
    ) -> None:
        """Ask ``endpoint`` with ``security``; each question waits ``wait`` s for its answer."""
        self._endpoint = endpoint
        self._security = security
        self._wait = wait
        self._client: KafkaAdminClient | None = None

    def __call__(self) -> None:
        """Ask once (blocking, up to twice the wait when a client is built first).

        Raises:
            Exception: the broker did not answer (KafkaError, OSError or a client's own error).
        """
        try:
            if self._client is None:
                self._client = kafka_client(
                    KafkaAdminClient,
                    self._endpoint.bootstrap,
                    self._security,
                    self._wait,
                    request_timeout_ms=int(self._wait * 1000),
                )
            self._client.describe_cluster()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Close the client, if one is open."""
        client, self._client = self._client, None
        if client is not None:
            client.close()


class BrokerCheck:
    """Keeps when the broker last answered, exports the silence since, and logs each change.

    Args:
        ask: Asks the broker once, raising when it does not answer (blocking).
        metrics: Whose ``kawal_broker_unanswered_seconds`` follows :meth:`unanswered_for`.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        ask: Callable[[], None],
        metrics: HubMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask = ask
        self._clock = clock
        # Every process reached the broker before it started (streams.broker.preflight).
        self._answered_at = clock()
        self._answering = True
        # A thread of its own: long lag readings or store calls in the shared executor
        # must not hold a question back, which would look like a silent broker.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="kawal-broker-check")
        metrics.follow_broker(self.unanswered_for)

    async def check(self) -> None:
        """Ask the broker once, off the event loop; a change from the last check is logged."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._ask)
        except Exception as exc:
            # Not a failure of the process: the broker's, reported by readiness and the alert.
            if self._answering:
                log.error(
                    "the broker does not answer (%s); /readyz answers 503 once it has not for "
                    "%.0f s; see docs/operations.md#kawalbrokerunanswered",
                    type(exc).__name__,
                    UNANSWERED_SECONDS,
                )
            self._answering = False
            return
        self.answered()

    def answered(self) -> None:
        """Record an answer of the broker, now."""
        if not self._answering:
            log.warning("the broker answers again, after %.0f s", self.unanswered_for())
        self._answering = True
        self._answered_at = self._clock()

    def unanswered_for(self) -> float:
        """Seconds since the broker last answered this process."""
        return max(0.0, self._clock() - self._answered_at)

    def readiness(self) -> tuple[int, dict[str, Any]] | None:
        """503 and its body once the broker has left this process unanswered too long; else None."""
        silent = self.unanswered_for()
        if silent <= UNANSWERED_SECONDS:
            return None
        return 503, {
            "status": "degraded",
            "broker": "unreachable",
            "broker_unanswered_seconds": int(silent),
        }


def register_broker_check(
    app: faust.App,
    endpoint: BrokerEndpoint,
    security: Mapping[str, Any] | None,
    metrics: HubMetrics,
) -> BrokerCheck:
    """Ask the broker of ``endpoint`` every :data:`CHECK_SECONDS` while ``app`` runs."""
    check = BrokerCheck(BrokerQuestion(endpoint, security), metrics)
    app.timer(CHECK_SECONDS, name="kawal.broker-check")(check.check)
    return check
