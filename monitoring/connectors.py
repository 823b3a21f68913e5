"""Prometheus metrics of connectors: is each one working, retrying, dead-lettering, keeping up.

A connector process (``kawal connector run``, ``kawal connector demo``) serves one registry
for all the connectors it runs. Labels are the connector's registered name and the
institution it speaks for (registry ids) and, for dead letters, the machine-readable reason
code; never a record, a case or a person. Times are exported as timestamps (seconds since the
epoch), Prometheus's way: ``time() - kawal_connector_last_success_timestamp_seconds`` is the
age, and stays right while nothing updates it. Dead letters and the hub's refusals are
exported from their first count: a connector's reason codes are its own, no closed list, so
the alerts on them also count a series that is new within their window.

The broker's silence is measured when scraped, as the hub's is
(``kawal_connector_broker_unanswered_seconds``): a connector whose broker stops answering
without closing its connections (frozen, a hung host) may go on reading an idle system without
an error, so ``kawal_connector_up`` is 0 and ``/readyz`` 503 once that silence passes its grace.

So is whether the key registry's file, as it is now, could be read
(``kawal_connector_key_registry_readable``): a connector whose file changed and no longer reads
goes on with the registry it read last, which may still hold a key revoked since.
And so are the files of its institution's key folder set aside
(``kawal_connector_key_file_damaged``, :mod:`streams.domain.key_files`): the connector signs
with another key meanwhile, and stops only when none is left.

An outbound connector whose system did not take a delivery after its retries holds its feed
at that entry (:mod:`connectors.feed_holds`) and is down and ``/readyz`` 503 until the entry is
delivered: between its passes, which wait longer and longer, nothing else tells that its system
is still down.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitoring.build import register_build_info
from monitoring.exposition import serve_registry
from monitoring.process_registry import process_registry

#: Dead letters whose first one raises an alert (KawalConnectorInternalError): their series
#: are exported at zero from the start, as increase() cannot count a series' first sample.
ALERTED_FROM_THE_FIRST = ("internal_error",)


class RegistryState(Protocol):
    """What a connector's watch of its key registry found (``streams.domain.registry_watch``)."""

    @property
    def problem(self) -> str | None:
        """Why the registry's file cannot be read as it is now; None when it was adopted."""


class BrokerSilence(Protocol):
    """How long a connector's broker has not answered (``streams.broker.silence``)."""

    #: Seconds of silence after which the connector is down and not ready.
    grace: float

    def unanswered_for(self) -> float:
        """Seconds since the broker last answered."""

    def silent(self) -> bool:
        """Whether that is longer than the grace."""

    def readiness(self) -> tuple[int, dict[str, Any]] | None:
        """503 and its body while silent past the grace; else None."""


@dataclass(frozen=True)
class ConnectorProbe:
    """The metrics of one connector, bound to its labels."""

    metrics: ConnectorMetrics
    connector: str
    institution: str

    def succeeded(self, records: int) -> None:
        """A pass reached the system (and the broker) and handled ``records`` records."""
        labels = (self.connector, self.institution)
        self.metrics.passed(labels, True)
        self.metrics.unreached.discard(labels)
        self.metrics.last_success.labels(*labels).set(time.time())
        self.counted(records)

    def counted(self, records: int) -> None:
        """``records`` more records handled: read from the system, or delivered into it."""
        self.metrics.records.labels(self.connector, self.institution).inc(records)

    def polls_every(self, seconds: float) -> None:
        """Record that an idle connector reads its system again after ``seconds``."""
        self.metrics.poll_interval.labels(self.connector, self.institution).set(seconds)

    def failed(self) -> None:
        """A pass gave up on the system after its retries."""
        self.metrics.passed((self.connector, self.institution), False)
        self.metrics.failures.labels(self.connector, self.institution).inc()

    def follow_broker(self, silence: BrokerSilence) -> None:
        """Export ``silence``, and count the connector down and not ready while it lasts."""
        self.metrics.follow_broker((self.connector, self.institution), silence)

    def follow_registry(self, watch: RegistryState) -> None:
        """Export whether the key registry's file, as ``watch`` last found it, could be read."""
        self.metrics.registry_readable.labels(self.connector, self.institution).set_function(
            lambda: 0.0 if watch.problem else 1.0
        )

    def key_files_set_aside(self, files: Iterable[tuple[str, str]]) -> None:
        """Export the files of the key folder set aside, each ``(file name, damage)``."""
        self.metrics.key_files_set_aside((self.connector, self.institution), files)

    def retried(self) -> None:
        """One call into the system failed transiently and will be tried again."""
        self.metrics.retries.labels(self.connector, self.institution).inc()

    def dead_lettered(self, reason_code: str) -> None:
        """One record went to ``kawal.dlq`` with ``reason_code``."""
        self.metrics.dead_letters.labels(self.connector, self.institution, reason_code).inc()

    def refused_by_hub(self, reason_code: str) -> None:
        """The hub refused one of the institution's records for ``reason_code`` (a receipt)."""
        self.metrics.hub_refusals.labels(self.connector, self.institution, reason_code).inc()

    def already_held(self) -> None:
        """The hub answered an event sent again ``duplicate_event``: it holds it already."""
        self.metrics.already_held.labels(self.connector, self.institution).inc()

    def undelivered(self) -> None:
        """A pass ended with the feed held at an entry: down and not ready till it is taken.

        Counts nothing; :meth:`failed` counts the passes that gave up on it. :meth:`succeeded`
        ends it.
        """
        labels = (self.connector, self.institution)
        self.metrics.passed(labels, False)
        self.metrics.unreached.add(labels)

    def waiting(self, items: int) -> None:
        """``items`` of work the connector left for later still wait (``catch_up``)."""
        self.metrics.waiting.labels(self.connector, self.institution).set(items)

    def checkpointed(self) -> None:
        """The connector's position (checkpoint or committed offset) was stored."""
        self.metrics.checkpoint.labels(self.connector, self.institution).set(time.time())


class ConnectorMetrics:
    """The metrics of the connectors of one process, on their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Metrics on ``registry`` (a new one with the process collectors if None)."""
        self.registry = registry or process_registry()
        register_build_info(self.registry, "connectors")
        labels = ["connector", "institution"]
        self.up = Gauge(
            "kawal_connector_up",
            "1 when a connector's last pass reached its system and the broker, 0 when it gave "
            "up after its retries (an outbound one while it holds its feed at an entry not "
            "delivered) or while its broker is silent past the grace (absent before its first "
            "pass).",
            labels,
            registry=self.registry,
        )
        self.last_success = Gauge(
            "kawal_connector_last_success_timestamp_seconds",
            "When a connector last completed a pass against its system and the broker.",
            labels,
            registry=self.registry,
        )
        # KawalConnectorSilent counts in it, so it follows a connector's poll_seconds.
        self.poll_interval = Gauge(
            "kawal_connector_poll_interval_seconds",
            "Seconds an idle connector waits before it reads its system again (its config's "
            "poll_seconds).",
            labels,
            registry=self.registry,
        )
        self.records = Counter(
            "kawal_connector_records",
            "Records a connector handled (inbound: read from the system; outbound: delivered "
            "into the system, the hub's refusals told it included; never a dead letter, nor an "
            "entry held).",
            labels,
            registry=self.registry,
        )
        self.failures = Counter(
            "kawal_connector_failures",
            "Passes in which a connector gave up on its system after every retry (an outbound "
            "one: each pass that tried its held entry in vain).",
            labels,
            registry=self.registry,
        )
        self.retries = Counter(
            "kawal_connector_retries",
            "Calls into an institution's system that failed transiently and were retried.",
            labels,
            registry=self.registry,
        )
        self.hub_refusals = Counter(
            "kawal_connector_hub_refusals",
            "The institution's records the hub refused, by reason code, as the signed rejection "
            "receipts on its feed say (counted by each outbound connector reading that feed).",
            [*labels, "reason"],
            registry=self.registry,
        )
        self.already_held = Counter(
            "kawal_connector_already_held",
            "The institution's events the hub answered duplicate_event: sent again (a re-read, "
            "a restart before the checkpoint), the hub holds them already; no refusal.",
            labels,
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "kawal_connector_dead_letters",
            "Records a connector sent to kawal.dlq, by machine-readable reason code.",
            [*labels, "reason"],
            registry=self.registry,
        )
        # Measured when scraped, as the hub's kawal_broker_unanswered_seconds.
        self.broker_unanswered = Gauge(
            "kawal_connector_broker_unanswered_seconds",
            "Seconds since the broker last answered a connector's check (every 5 s): grows "
            "while a broker keeps its connections but answers nothing (frozen, hung host).",
            labels,
            registry=self.registry,
        )
        self.broker_grace = Gauge(
            "kawal_connector_broker_unanswered_grace_seconds",
            "Seconds of broker silence after which a connector is down and not ready: twice "
            "its KAWAL_BROKER_WAIT_SECONDS.",
            labels,
            registry=self.registry,
        )
        self.registry_readable = Gauge(
            "kawal_connector_key_registry_readable",
            "1 while the key registry's file, as a connector last checked it (before each "
            "pass), was read; 0 while it changed and cannot be read: the connector goes on "
            "with the registry it read last, which may miss a key revoked since.",
            labels,
            registry=self.registry,
        )
        # One series per file set aside: its name is a key's fingerprint, its damage a closed
        # vocabulary (streams.domain.key_files.KeyFileDamage); never its content.
        self.key_files_damaged = Gauge(
            "kawal_connector_key_file_damaged",
            "1 for each file of the connector's institution's key folder set aside at its last "
            "read (unreadable, truncated, not_a_key): the connector signs with another key.",
            [*labels, "file", "damage"],
            registry=self.registry,
        )
        #: The series of each connector's files set aside, to drop those mended.
        self._damaged: dict[tuple[str, str], set[tuple[str, str]]] = {}
        self.waiting = Gauge(
            "kawal_connector_waiting",
            "Items an outbound connector left for later because another system it reads "
            "beside its feed did not answer, retried between its passes (ppk-inbox: cases "
            "whose subject it could not yet read from the hub's trail).",
            labels,
            registry=self.registry,
        )
        #: Per connector: whether its last pass succeeded, and its broker's silence.
        self._passes: dict[tuple[str, str], bool] = {}
        self._brokers: dict[tuple[str, str], BrokerSilence] = {}
        #: Outbound connectors holding their feed at an entry their system did not take.
        self.unreached: set[tuple[str, str]] = set()
        self.checkpoint = Gauge(
            "kawal_connector_checkpoint_timestamp_seconds",
            "When a connector last stored its position (inbound checkpoint, outbound offset).",
            labels,
            registry=self.registry,
        )

    def probe(self, connector: str, institution: str) -> ConnectorProbe:
        """The metrics of one connector, its series exported at zero from now on."""
        for family in (self.records, self.failures, self.retries):
            family.labels(connector, institution)
        for reason in ALERTED_FROM_THE_FIRST:
            self.dead_letters.labels(connector, institution, reason)
        return ConnectorProbe(self, connector, institution)

    def passed(self, labels: tuple[str, str], succeeded: bool) -> None:
        """Record how a connector's pass ended; its ``up`` is read when scraped."""
        if labels not in self._passes:
            self.up.labels(*labels).set_function(lambda: self._up(labels))
        self._passes[labels] = succeeded

    def _up(self, labels: tuple[str, str]) -> float:
        broker = self._brokers.get(labels)
        return 1.0 if self._passes[labels] and not (broker and broker.silent()) else 0.0

    def follow_broker(self, labels: tuple[str, str], silence: BrokerSilence) -> None:
        """Export the silence of a connector's broker, which its ``up`` and readiness follow."""
        self._brokers[labels] = silence
        self.broker_unanswered.labels(*labels).set_function(silence.unanswered_for)
        self.broker_grace.labels(*labels).set(silence.grace)

    def key_files_set_aside(
        self, labels: tuple[str, str], files: Iterable[tuple[str, str]]
    ) -> None:
        """Export a connector's files set aside, each ``(file name, damage)``; drop the rest."""
        now = set(files)
        for file in self._damaged.get(labels, set()) - now:
            self.key_files_damaged.remove(*labels, *file)
        for file in now:
            self.key_files_damaged.labels(*labels, *file).set(1)
        self._damaged[labels] = now

    def readiness(self) -> tuple[int, dict[str, Any]] | None:
        """The first connector whose broker is silent past its grace, as ``/readyz`` says it.

        Else the first outbound connector whose system takes no deliveries (503).
        """
        for (connector, _), silence in list(self._brokers.items()):
            if (answer := silence.readiness()) is not None:
                status, body = answer
                return status, {**body, "connector": connector}
        unreached = sorted(self.unreached)
        if unreached:
            return 503, {
                "status": "degraded",
                "system": "unreachable",
                "connector": unreached[0][0],
            }
        return None

    def serve(self, host: str, port: int, idle_seconds: float) -> None:
        """Serve ``/metrics``, ``/readyz`` and ``/livez`` on ``host:port`` (0: serve nothing).

        From a daemon thread; ``/readyz`` answers :meth:`readiness`.

        A connection silent for ``idle_seconds`` is dropped.

        Raises:
            OSError: the port cannot be bound (``EADDRINUSE``: another process holds it).
        """
        if port:
            serve_registry(self.registry, host, port, idle_seconds, self.readiness)
