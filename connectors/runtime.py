"""The hub's side of a connector: Kafka clients, checkpoints, retries and the DLQ.

:class:`InboundRunner` reads a batch from the system after the stored checkpoint, maps it,
signs each event with the institution's key (:mod:`streams.domain.signed_events`), publishes
the events (``acks=all``) to ``kawal.inbound.<institution>``, waits for the broker, then stores
the checkpoint and lets the connector acknowledge the batch to its system.
:class:`connectors.outbound_runner.OutboundRunner` delivers the institution's feed into its
system. A record that cannot be mapped, whose events the
shared schemas refuse (``schema_mismatch``; a time without UTC offset, ``naive_time``) or that
the system refuses as it is (a ``PermanentError``) goes to ``kawal.dlq``
(:mod:`connectors.dead_letters`) with a machine-readable reason, and the runner goes on with
the next; nothing is dropped, and the connector may tell its system
(:mod:`connectors.rejected_hook`). A system that is down holds the runner back instead: an
inbound one reads the batch again, an outbound one holds its feed at the entry not delivered
(:mod:`connectors.feed_holds`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.base import (
    ConnectorConfig,
    Event,
    InboundConnector,
    SourceRecord,
)
from connectors.clear_fields import clear_field_refusal
from connectors.dead_letters import PUBLISH_TIMEOUT_SECONDS, Rejection, send_dead_letter
from connectors.emitters import Emitter, emitter_of
from connectors.errors import ConnectorError, PermanentError
from connectors.producer_renewal import RenewsProducer
from connectors.record_failures import INTERNAL_ERROR, failure_reason, is_machine_failure
from connectors.rejected_hook import tell_system
from connectors.retry import GaveUp, RetryPolicy, with_retries
from monitoring.connectors import ConnectorMetrics, ConnectorProbe
from schemas.codec import AvroCodec, CodecError
from schemas.envelope import aware_time
from schemas.errors import NaiveTimeError
from streams import logs
from streams.broker.checkpoints import CheckpointStore
from streams.broker.topic_presence import TopicPresence
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.keyring import KeyRing
from streams.domain.registry_watch import RegistryWatch
from streams.domain.signed_events import encode_signed
from streams.headers import cloud_event_headers
from streams.settings import Settings
from streams.topics import connector_group, inbound_topic

log = logging.getLogger(__name__)

#: Reason code of a system record whose events do not fit the shared schemas.
SCHEMA_MISMATCH = "schema_mismatch"
#: Reason code of a system record whose events carry a time without a UTC offset.
NAIVE_TIME = "naive_time"
#: What a reason of either tells to do.
REFIT = "correct the record in the system, or the connector's mapping of it"
#: Reason code of a system record mapped to an event type no role of the institution emits:
#: the hub's own code for it (streams.domain.reasons.Reason.UNAUTHORIZED).
UNAUTHORIZED_SENDER = "unauthorized_sender"


def system_topic(connector_name: str) -> str:
    """Pseudo source topic of a record read from an institution's system (not Kafka)."""
    return f"system:{connector_name}"


def group_id(institution: str, connector_name: str) -> str:
    """Consumer group of an outbound connector speaking for ``institution``."""
    return connector_group(institution, connector_name)


@dataclass(frozen=True)
class Outgoing:
    """One signed event, ready to send: its record key, value and CloudEvents headers."""

    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def unwatched(connector: str, institution: str) -> ConnectorProbe:
    """Metrics of a connector on a registry of its own, served nowhere (tests, tools)."""
    return ConnectorMetrics().probe(connector, institution)


class Patience:
    """Retries' waits that count as retries in the connector's metrics."""

    def __init__(self, probe: ConnectorProbe) -> None:
        self.probe = probe

    def __call__(self, seconds: float) -> None:
        """Count one retry, then wait ``seconds``."""
        self.probe.retried()
        time.sleep(seconds)


def json_bytes(payload: Any) -> bytes:
    """A system record as JSON bytes (dates in ISO 8601), the DLQ payload of inbound records."""
    return json.dumps(payload, default=_iso, sort_keys=True).encode()


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


class InboundRunner(RenewsProducer):
    """Moves records from an institution's system into its inbound topic."""

    connector: InboundConnector[ConnectorConfig]

    def __init__(
        self,
        connector: InboundConnector[ConnectorConfig],
        producer: KafkaProducer,
        codec: AvroCodec,
        checkpoints: CheckpointStore,
        policy: RetryPolicy,
        keyring: KeyRing,
        batch_size: int = 100,
        probe: ConnectorProbe | None = None,
        topic: str | None = None,
        new_producer: Callable[[], KafkaProducer] | None = None,
        emitter: Emitter | None = None,
        presence: TopicPresence | None = None,
    ) -> None:
        """``topic``: where the institution publishes (default its own inbound topic).

        ``presence``: the broker's topics; given, no pass reads while the broker lacks ``topic``.

        ``emitter``: the institution as the hub authorizes it (default: from the registry and
        authority map of the environment's settings); an event type none of its roles emits
        is dead-lettered before it is signed.

        ``new_producer`` makes a producer in place of one the broker stopped answering:
        kafka-python's does not take records again once a broker froze and came back. Without
        it, the same producer is tried again.
        """
        self.connector = connector
        self.new_producer = new_producer
        self.topic = topic or inbound_topic(connector.institution)
        self.probe = probe or unwatched(connector.name, connector.institution)
        self.producer = producer
        self.codec = codec
        self.checkpoints = checkpoints
        self.keyring = keyring
        #: The registry's file, read again when it changed (a key revoked, a successor added).
        self.keys = RegistryWatch(keyring.registry)
        self.probe.follow_registry(self.keys)
        self.policy = policy
        self.batch_size = batch_size
        self.emitter = emitter or emitter_of(connector.institution, Settings())
        self.presence = presence

    def run_once(self) -> int:
        """Handle one batch; return how many records it held (0: nothing new, or unreachable).

        Raises:
            streams.broker.topic_presence.TopicMissingError: the broker does not hold the
                topic the institution publishes on; nothing was read.
        """
        name = self.connector.name
        if not self._renew_producer() or not self._topic_held():
            return 0
        self.keys.refresh()  # sign and seal with the keys the registry gives now
        after = self.checkpoints.get(name)
        read = self._read(after)
        if read is None:
            self.probe.failed()
            return 0
        if not read:
            self.probe.succeeded(0)
            return 0
        try:
            published = self._publish(read, after)
        except KafkaError as exc:
            # Nothing is checkpointed: the batch is read and sent again at the next pass, and
            # the hub refuses what reached it already as duplicate_event.
            log.warning(
                "%s: the broker did not take the batch (%s); it is sent again at the next pass",
                name,
                type(exc).__name__,
            )
            self._producer_lost()
            return 0
        # Counts only: a position can name a record of the institution's system (a file name).
        log.info("%s: events published: %d, from records read: %d", name, published, len(read))
        self.checkpoints.put(name, read[-1].position)
        self.probe.checkpointed()
        self.probe.succeeded(len(read))
        try:
            self.connector.acknowledge(read)
        except Exception as exc:  # the events are in; a failed receipt must not stop the loop
            log.error("%s: acknowledging a batch failed with %s", name, type(exc).__name__)
        return len(read)

    def _topic_held(self) -> bool:
        """Whether the broker holds the topic (listed once); False, logged, if it cannot say."""
        if self.presence is None:
            return True
        try:
            self.presence.require(self.topic, self.connector.institution)
        except KafkaError as exc:
            why = type(exc).__name__
            log.warning(
                "%s: no topics listed (%s); tried again next pass", self.connector.name, why
            )
            return False
        return True

    def _read(self, after: str | None) -> Sequence[SourceRecord] | None:
        """The system's records after position ``after``; None, logged, when it cannot be read.

        A failure the connector did not raise as a ``TransientError`` (a defect of its reading,
        a file it cannot decode) is logged with its frames and tried again at the next pass,
        as an outage is: it names no record to dead-letter, and ending the connector would
        only meet it again at the next start.
        """
        name = self.connector.name
        try:
            read = with_retries(
                lambda: self.connector.read(after, self.batch_size),
                self.policy,
                Patience(self.probe),
                f"{name}: reading its system",
            )
        except Exception as exc:
            log.error(
                "%s: reading its system failed with %s, a defect of the connector (an outage "
                "is a TransientError); it is tried again at the next pass\n%s",
                name,
                type(exc).__name__,
                logs.frames(exc.__traceback__),
            )
            return None
        if isinstance(read, GaveUp):
            # A connector's reasons are free of personal data (connectors.errors), so its own
            # words say what is down: the share, the database, the host.
            log.warning(
                "%s: system unreachable after %d attempts (%s: %s); will try again",
                name,
                read.attempts,
                type(read.last_error).__name__,
                read.last_error,
            )
            return None
        return read

    def _publish(self, records: Sequence[SourceRecord], after: str | None) -> int:
        """Signs and sends the events of ``records``; how many were sent (refused ones aside).

        ``records`` were read after position ``after``.
        """
        befores = [after, *(record.position for record in records[:-1])]
        futures = [
            self.producer.send(self.topic, key=event.key, value=event.value, headers=event.headers)
            for record, before in zip(records, befores, strict=True)
            for event in self._signed_events(record, before)
        ]
        self.producer.flush(timeout=PUBLISH_TIMEOUT_SECONDS)
        for future in futures:
            future.get(timeout=PUBLISH_TIMEOUT_SECONDS)  # raises if the broker refused it
        return len(futures)

    def _signed_events(self, record: SourceRecord, before: str | None) -> list[Outgoing]:
        """The events of ``record``, each signed; none when it is refused (dead-lettered).

        Every event is encoded before any is sent, so a record goes in whole or not at all.
        ``before`` is the position after which ``record`` was read (None: the first).
        """
        try:
            return [self._signed(event) for event in self._events_of(record, before)]
        except PermanentError as exc:
            self._reject(record, exc)
        except CodecError as exc:
            # Mapped, but not to what the shared schemas take (a symbol outside an enum, a
            # time without offset): the record is refused, not the connector. Codec messages
            # name schemas and fields, never values.
            code = NAIVE_TIME if isinstance(exc, NaiveTimeError) else SCHEMA_MISMATCH
            self._reject(record, PermanentError(code, f"{exc}; {REFIT}"))
        return []

    def _events_of(self, record: SourceRecord, before: str | None) -> list[Event]:
        """The connector's events of ``record``, read after position ``before``.

        Raises:
            PermanentError: the connector refused the record, or failed on it in a way nobody
                foresaw (``internal_error``: :mod:`connectors.record_failures`).
            CodecError: an event's time has no UTC offset.
            TransientError: the connector could not reach what the mapping needs.
        """
        try:
            return list(self.connector.to_events(record))
        except (ConnectorError, CodecError):
            raise
        except Exception as exc:
            if is_machine_failure(exc):
                raise
            then = (
                f"start it once with `--reread-after {before}` to read the record again"
                if before is not None
                else "read the record again (docs/connectors.md, section 6)"
            )
            reason = failure_reason(self.connector.name, "a record of its system", exc, then)
            raise PermanentError(INTERNAL_ERROR, reason) from exc

    def _signed(self, event: Event) -> Outgoing:
        """One event signed with the key valid at its time, and its record key and headers.

        Raises:
            CodecError: the event does not fit its schema, or its time has no UTC offset.
            PermanentError: no role of the institution emits the event's type.
        """
        refusal = self.emitter and self.emitter.refusal(self.codec.catalog, event.event_type)
        if refusal:
            raise PermanentError(UNAUTHORIZED_SENDER, refusal)
        given = event.record.get("envelope")
        envelope: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        in_clear = clear_field_refusal(
            self.connector.institution, event.event_type, envelope, event.record
        )
        if in_clear:
            raise PermanentError(*in_clear)
        path = f"{event.event_type}.envelope.event_time"
        # Checked before the key registry compares it with the keys' aware validity times.
        moment = aware_time(path, envelope.get("event_time"))
        key = self.keyring.signing_key(self.connector.institution, moment)
        hub = hub_sealing_key(self.keyring.registry, moment)
        value = encode_signed(
            self.codec.catalog, self.codec, key, event.event_type, event.record, hub
        )
        # Encoded, so the envelope is whole: a case id, and what the headers need.
        return Outgoing(str(envelope["case_id"]).encode(), value, cloud_event_headers(envelope))

    def _reject(self, record: SourceRecord, error: PermanentError) -> None:
        """Dead-letter ``record``, then tell the connector's system (its ``rejected`` hook)."""
        rejection = Rejection(
            reason_code=error.reason_code,
            reason=f"record {record.source_id}: {error.reason}",
            source_topic=system_topic(self.connector.name),
            source_partition=0,
            source_offset=-1,
            payload=json_bytes(record.payload),
            key=None,
            record=record.source_id,
        )
        send_dead_letter(self.producer, self.codec, self.keyring.registry, rejection)
        self.probe.dead_lettered(rejection.reason_code)
        tell_system(self.connector, record, error, self.policy, Patience(self.probe))
