"""Consumer lag of the hub's consumer groups: records on the broker not yet consumed.

For each group the hub runs (the pipeline, the audit sink, every outbound connector), lag is
the sum over the partitions of a topic of the end offset minus the group's committed offset.
On Apache Kafka the end offset is what ListOffsets reports; tansu reports it too low, so on
tansu the end is read from Fetch responses by :mod:`streams.broker.tansu`, the one module that
knows tansu's quirks.

Reading lag costs a ListGroups, an OffsetFetch per group and a ListOffsets (and, on tansu, a
Fetch per partition that got a batch since the last reading: tansu lists every batch of a
partition to answer one), so :class:`LagReader` reads it on a timer, off the event loop, and
the metrics collector (:mod:`monitoring.lag`) exports the last reading.
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

from streams.broker import tansu
from streams.broker.endpoint import (
    BROKER_WAIT_SECONDS,
    BrokerEndpoint,
    admin_client,
    kafka_client,
)
from streams.topics import APP_ID, CONNECTOR_GROUP_PREFIX, SINK_APP_ID

log = logging.getLogger(__name__)

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
    timeout: float = BROKER_WAIT_SECONDS,
    known: tansu.KnownEnds | None = None,
) -> Lag:
    """The lag of every hub consumer group on ``endpoint``, read now.

    ``known`` keeps tansu's end offsets between readings (:func:`tansu.fetched_end_offsets`).

    Raises:
        kafka.errors.KafkaError: the broker did not answer.
        streams.broker.tansu.EndOffsetError: tansu's end offsets could not be fetched.
    """
    with admin_client(endpoint, security, timeout) as admin:
        groups = sorted(g["group_id"] for g in admin.list_groups() if hub_group(g["group_id"]))
        committed = {
            group: {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
            for group, offsets in _group_offsets(admin, groups).items()
        }
    partitions = sorted({tp for offsets in committed.values() for tp in offsets})
    return lag_of(committed, end_offsets(endpoint, partitions, security or {}, timeout, known))


def _group_offsets(
    admin: KafkaAdminClient, groups: Iterable[str]
) -> dict[str, dict[TopicPartition, Any]]:
    # One group per request: brokers before OffsetFetch v8 (and tansu) take no more.
    found: dict[str, dict[TopicPartition, Any]] = {}
    for group in groups:
        found |= admin.list_group_offsets(group)
    return found


def end_offsets(
    endpoint: BrokerEndpoint,
    partitions: list[TopicPartition],
    security: Mapping[str, Any],
    timeout: float,
    known: tansu.KnownEnds | None = None,
) -> dict[TopicPartition, int]:
    """One past the last record of each partition (through Fetch responses on tansu)."""
    if not partitions:
        return {}
    # No group and nothing to commit: without enable_auto_commit=False, kafka-python warns
    # "group_id is None" in the worker's log at every reading.
    consumer = kafka_client(
        KafkaConsumer,
        endpoint.bootstrap,
        security,
        timeout,
        request_timeout_ms=int(timeout * 1000),
        enable_auto_commit=False,
    )
    try:
        reported: dict[TopicPartition, int] = consumer.end_offsets(partitions)
    finally:
        consumer.close()
    if not endpoint.is_tansu:
        return reported
    fetched = tansu.fetched_end_offsets(
        endpoint.bootstrap,
        {TP(tp.topic, tp.partition): end for tp, end in reported.items()},
        timeout,
        security=security,
        known=known,
    )
    return {TopicPartition(tp.topic, tp.partition): end for tp, end in fetched.items()}


@dataclass
class LagReader:
    """The last lag reading, refreshed by :meth:`refresh` (from a timer, off the event loop)."""

    endpoint: BrokerEndpoint
    security: Mapping[str, Any] | None = None
    #: How long a reading waits for the broker's answers, in seconds.
    timeout: float = BROKER_WAIT_SECONDS
    #: The last reading; None until the first succeeded.
    lag: Lag | None = None
    #: When the last reading succeeded (seconds since the epoch), 0 before the first.
    read_at: float = 0.0
    #: Readings that failed (the broker unreachable), since the process started.
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: tansu's end offsets of earlier readings: only partitions with new batches are fetched.
    _known_ends: dict[TP, tuple[int, int]] = field(default_factory=dict, repr=False)

    def refresh(self) -> None:
        """Read the lag now; a failure is counted and logged, the last reading kept."""
        try:
            lag = read_lag(self.endpoint, self.security, self.timeout, known=self._known_ends)
        except Exception as exc:
            # The broker unreachable (KafkaError, OSError), tansu's ends unread, or a client
            # library's own error: counted and logged, the worker goes on.
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
