"""Consumer lag of the hub's consumer groups: records on the broker not yet consumed.

For each group the hub runs (the pipeline, the audit sink, every outbound connector), lag is
the sum over the partitions of a topic of the end offset minus the group's committed offset.
On Apache Kafka the end offset is what ListOffsets reports; tansu reports it too low, so on
tansu the end is read from Fetch responses by :mod:`streams.broker.tansu`, the one module that
knows tansu's quirks.

Reading lag costs a ListGroups, an OffsetFetch per group and a ListOffsets (and, on tansu, a
Fetch per non-empty partition), so :class:`LagReader` reads it on a timer, off the event loop,
and the metrics collector (:mod:`monitoring.lag`) exports the last reading.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from faust.types import TP
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from streams.broker import tansu
from streams.broker.endpoint import BrokerEndpoint
from streams.topics import APP_ID, CONNECTOR_GROUP_PREFIX, SINK_APP_ID

log = logging.getLogger(__name__)

#: Seconds a lag reading waits for each broker answer.
READ_TIMEOUT = 15.0

#: Lag of (consumer group, topic), in records.
Lag = dict[tuple[str, str], int]


def hub_group(group: str) -> bool:
    """Whether ``group`` is one of the hub's: the pipeline, the audit sink or a connector.

    Other groups (an operator's console consumer, a test's) are not the hub's to watch, and
    each would add series.
    """
    return group in (APP_ID, SINK_APP_ID) or group.startswith(CONNECTOR_GROUP_PREFIX)


def lag_of(
    committed: Mapping[str, Mapping[TopicPartition, int]], ends: Mapping[TopicPartition, int]
) -> Lag:
    """Lag per (group, topic) from committed offsets and end offsets.

    A partition whose end is unknown counts 0; a committed offset past the end (the end was
    read first) counts 0, never negative.
    """
    lag: Lag = {}
    for group, offsets in committed.items():
        for tp, offset in offsets.items():
            behind = max(0, ends.get(tp, offset) - offset)
            lag[group, tp.topic] = lag.get((group, tp.topic), 0) + behind
    return lag


def read_lag(
    endpoint: BrokerEndpoint,
    security: Mapping[str, Any] | None = None,
    timeout: float = READ_TIMEOUT,
) -> Lag:
    """The lag of every hub consumer group on ``endpoint``, read now.

    Raises:
        kafka.errors.KafkaError: the broker did not answer.
        streams.broker.tansu.EndOffsetError: tansu's end offsets could not be fetched.
    """
    clients = LagClients.open(endpoint, security, timeout)
    try:
        return clients.read()
    finally:
        clients.close()


@dataclass
class LagClients:
    """An admin client and a consumer that read lag, kept from one reading to the next.

    Each new client fetches the metadata of every topic; with a national registry's 1,800
    topics, opening two every 15 s was most of the worker's CPU at rest.
    """

    endpoint: BrokerEndpoint
    admin: KafkaAdminClient
    consumer: KafkaConsumer
    timeout: float

    @classmethod
    def open(
        cls, endpoint: BrokerEndpoint, security: Mapping[str, Any] | None, timeout: float
    ) -> LagClients:
        """Connect both clients to ``endpoint``.

        Raises:
            kafka.errors.KafkaError: the broker did not answer.
        """
        kwargs = dict(security or {}) | {"request_timeout_ms": int(timeout * 1000)}
        admin = KafkaAdminClient(bootstrap_servers=endpoint.bootstrap, **kwargs)
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=endpoint.bootstrap,
                enable_auto_commit=False,
                fetch_max_wait_ms=tansu.FETCH_MAX_WAIT_MS,
                **kwargs,
            )
        except BaseException:
            admin.close()
            raise
        return cls(endpoint, admin, consumer, timeout)

    def read(self) -> Lag:
        """The lag of every hub consumer group, read now.

        Raises:
            kafka.errors.KafkaError: the broker did not answer.
            streams.broker.tansu.EndOffsetError: tansu's end offsets could not be fetched.
        """
        admin = self.admin
        groups = sorted(g["group_id"] for g in admin.list_groups() if hub_group(g["group_id"]))
        committed = {
            group: {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
            for group, offsets in _group_offsets(admin, groups).items()
        }
        partitions = sorted({tp for offsets in committed.values() for tp in offsets})
        return lag_of(committed, self._end_offsets(partitions))

    def close(self) -> None:
        """Close both clients."""
        self.consumer.close()
        self.admin.close()

    def _end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        """One past the last record of each partition (through Fetch responses on tansu)."""
        if not partitions:
            return {}
        reported: dict[TopicPartition, int] = self.consumer.end_offsets(partitions)
        if not self.endpoint.is_tansu:
            return reported
        fetched = tansu.fetched_end_offsets(
            self.endpoint.bootstrap,
            {TP(tp.topic, tp.partition): end for tp, end in reported.items()},
            self.timeout,
            consumer=self.consumer,
        )
        return {TopicPartition(tp.topic, tp.partition): end for tp, end in fetched.items()}


def _group_offsets(
    admin: KafkaAdminClient, groups: Iterable[str]
) -> dict[str, dict[TopicPartition, Any]]:
    # One group per request: brokers before OffsetFetch v8 (and tansu) take no more.
    found: dict[str, dict[TopicPartition, Any]] = {}
    for group in groups:
        found |= admin.list_group_offsets(group)
    return found


@dataclass
class LagReader:
    """The last lag reading, refreshed by :meth:`refresh` (from a timer, off the event loop)."""

    endpoint: BrokerEndpoint
    security: Mapping[str, Any] | None = None
    #: The last reading; None until the first succeeded.
    lag: Lag | None = None
    #: When the last reading succeeded (seconds since the epoch), 0 before the first.
    read_at: float = 0.0
    #: Readings that failed (the broker unreachable), since the process started.
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _clients: LagClients | None = field(default=None, repr=False)

    def refresh(self) -> None:
        """Read the lag now; a failure is counted and logged, the last reading kept.

        The clients stay open for the next reading; after a failure they are opened anew.
        """
        try:
            if self._clients is None:
                self._clients = LagClients.open(self.endpoint, self.security, READ_TIMEOUT)
            lag = self._clients.read()
        except (KafkaError, tansu.EndOffsetError, OSError) as exc:
            self.close()
            with self._lock:
                self.failures += 1
            log.warning("consumer lag could not be read (%s)", type(exc).__name__)
            return
        with self._lock:
            self.lag, self.read_at = lag, time.time()

    def snapshot(self) -> tuple[Lag | None, float, int]:
        """The last reading, when it was taken and how many readings failed."""
        with self._lock:
            return (dict(self.lag) if self.lag is not None else None), self.read_at, self.failures

    def close(self) -> None:
        """Close the clients (the next :meth:`refresh` opens new ones)."""
        clients, self._clients = self._clients, None
        if clients is not None:
            clients.close()
