"""Whether the broker answers a process: the question asked, and the silence kept since.

A broker that stops answering without closing its connections (a frozen tansu, a hung host, a
network that drops packets) raises nothing anywhere: clients wait on their requests, and a
process looks healthy while nothing moves. The lag reading is no answer: at national size one
reading asks thousands of partitions, so a slow broker would look like a silent one. Every
process that talks to the broker (the hub's worker and sink, each connector) asks it for its
cluster's description instead, the same small question whatever the number of topics, every
:data:`CHECK_SECONDS`, through one client kept between questions. :class:`BrokerSilence` keeps
when the broker last answered and says in the log when it stops and starts answering (once
each, not every check); the hub asks from its event loop (``streams.hub.broker_check``), a
connector from a thread of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kafka import KafkaAdminClient

from streams.broker.endpoint import BROKER_WAIT_SECONDS, kafka_client

log = logging.getLogger(__name__)

#: Seconds between two questions: several fall within the silence that degrades readiness.
CHECK_SECONDS = 5.0


def unanswered_grace(wait: float) -> float:
    """How long the broker may leave a process unanswered before its readiness fails, in s.

    Two whole waits of a question (each waits ``wait``, ``KAWAL_BROKER_WAIT_SECONDS``): the
    worker, the sink and connectors alike. A slow broker answers within one wait and resets
    it, so it never flaps readiness; a silent one is reported within two waits.
    """
    return 2 * wait


#: The grace of the default wait: about half a minute, two lag readings' time.
UNANSWERED_SECONDS = unanswered_grace(BROKER_WAIT_SECONDS)

#: What a process's readiness answers while the broker is silent (``broker_unanswered_seconds``
#: is added).
UNREACHABLE = {"status": "degraded", "broker": "unreachable"}


class BrokerQuestion:
    """Asks the broker to describe its cluster, through a client kept between questions.

    A question that fails closes the client: the next one builds another, so a broker that
    comes back at another address, or a client left in a bad state, is not asked for ever.
    """

    def __init__(
        self,
        bootstrap: Sequence[str],
        security: Mapping[str, Any] | None = None,
        wait: float = BROKER_WAIT_SECONDS,
    ) -> None:
        """Ask ``bootstrap`` with ``security``; each question waits ``wait`` s for its answer."""
        self._bootstrap = bootstrap
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
                    self._bootstrap,
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


class BrokerSilence:
    """Keeps when the broker last answered a process, and logs each change.

    Args:
        grace: Seconds of silence after which the process is not ready.
        runbook: The runbook section the log points at (its alert, lower-cased).
        clock: Monotonic seconds (tests pass their own).
        who: Whose silence it is, when one log holds several processes' lines (the demo's
            connectors share one): each line starts with it.
        from_first_question: Count the silence from the first question only, not from when
            this was made: for a process that may begin asking long after it started.
    """

    def __init__(
        self,
        grace: float = UNANSWERED_SECONDS,
        runbook: str = "kawalbrokerunanswered",
        clock: Callable[[], float] = time.monotonic,
        who: str | None = None,
        *,
        from_first_question: bool = False,
    ) -> None:
        self.grace = grace
        self._runbook = runbook
        self._clock = clock
        self._who = f"{who}: " if who else ""
        # Every process reached the broker before it started (its clients were built).
        self._answered_at = clock()
        self._answering = True
        self._asked = not from_first_question

    def ask(self, question: Callable[[], None]) -> None:
        """Ask the broker once with ``question`` (blocking); a change is logged."""
        try:
            question()
        except Exception as exc:
            self.unanswered(exc)
            return
        self.answered()

    def unanswered(self, exc: Exception) -> None:
        """Record a question the broker left unanswered with ``exc``: logged at the first."""
        # Not a failure of the process: the broker's, reported by readiness and the alert.
        if not self._asked:  # the silence starts with the first question left unanswered
            self._answered_at = self._clock()
        self._asked = True
        if self._answering:
            log.error(
                "%sthe broker does not answer (%s); /readyz answers 503 once it has not for "
                "%.0f s; see docs/operations.md#%s",
                self._who,
                type(exc).__name__,
                self.grace,
                self._runbook,
            )
        self._answering = False

    def answered(self) -> None:
        """Record an answer of the broker, now."""
        if not self._answering:
            log.warning(
                "%sthe broker answers again, after %.0f s", self._who, self.unanswered_for()
            )
        self._answering = self._asked = True
        self._answered_at = self._clock()

    def unanswered_for(self) -> float:
        """Seconds since the broker last answered this process (0 before it was asked)."""
        if not self._asked:
            return 0.0
        return max(0.0, self._clock() - self._answered_at)

    def silent(self) -> bool:
        """Whether the broker has left this process unanswered for longer than the grace."""
        return self.unanswered_for() > self.grace

    def readiness(self) -> tuple[int, dict[str, Any]] | None:
        """503 and its body once the broker has been silent past the grace; else None."""
        silent = self.unanswered_for()
        if silent <= self.grace:
            return None
        return 503, {**UNREACHABLE, "broker_unanswered_seconds": int(silent)}
