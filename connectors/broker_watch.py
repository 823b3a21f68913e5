"""Asks a connector's broker whether it answers, from a thread of its own, while it runs.

A connector's loop learns nothing of a broker that keeps its connections but answers nothing
(frozen, a hung host) while its system has nothing new: an inbound pass then sends nothing,
and an outbound fetch returns empty. So a thread asks the broker every
:data:`~streams.broker.silence.CHECK_SECONDS` the hub's question
(:class:`streams.broker.silence.BrokerQuestion`), and the connector's metrics follow the
silence (``kawal_connector_broker_unanswered_seconds``, ``kawal_connector_up``, ``/readyz``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from monitoring.connectors import ConnectorProbe
from streams.broker.silence import (
    CHECK_SECONDS,
    BrokerQuestion,
    BrokerSilence,
    unanswered_grace,
)

#: The runbook section a connector's log points at while its broker is silent.
RUNBOOK = "kawalconnectorbrokerunanswered"


class BrokerWatch:
    """A thread asking the broker every ``every`` s until the ``with`` block ends.

    Args:
        bootstrap: The broker's servers.
        security: The client's security options.
        wait: Seconds a question waits for its answer; twice that is the grace after which
            the connector counts as down and not ready, as for the hub's processes.
        every: Seconds between two questions.
        connector: The connector's name, which each line of the log starts with.
    """

    def __init__(
        self,
        bootstrap: Sequence[str],
        security: Mapping[str, Any] | None,
        wait: float,
        every: float = CHECK_SECONDS,
        connector: str | None = None,
    ) -> None:
        who = f"connector {connector}" if connector else None
        self.silence = BrokerSilence(unanswered_grace(wait), RUNBOOK, who=who)
        self._question = BrokerQuestion(bootstrap, security, wait)
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-watch", daemon=True)

    def follow(self, probe: ConnectorProbe) -> BrokerWatch:
        """Let ``probe``'s metrics follow the broker's silence; return this watch."""
        probe.follow_broker(self.silence)
        return self

    def __enter__(self) -> BrokerWatch:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        # A question in flight ends within its wait; the thread is a daemon if it does not.
        self._thread.join(timeout=self._every)
        if not self._thread.is_alive():
            self._question.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.silence.ask(self._question)
            self._stop.wait(self._every)
