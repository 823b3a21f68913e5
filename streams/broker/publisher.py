"""Publish signed case events to an institution's inbound topic, as any Kafka client would.

Each event is committed and signed with its source institution's key valid at the event's
time (:mod:`streams.domain.signed_events`), from the key ring the publisher holds. Used by the
demo, the tests and the benchmarks; connectors get the same through the connector runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from schemas.codec import AvroCodec
from schemas.errors import KawalError
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.broker.endpoint import BROKER_WAIT_SECONDS, kafka_client
from streams.broker.producer_close import close_within
from streams.broker.topic_presence import TopicPresence, broker_topics
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import Institution
from streams.domain.keyring import KeyRing
from streams.domain.signed_events import encode_signed
from streams.headers import cloud_event_headers
from streams.topics import inbound_topic, inbound_topic_of

log = logging.getLogger(__name__)

#: Producer flush deadline, in seconds.
FLUSH_TIMEOUT_SECONDS = 30.0


class PublishError(KawalError):
    """The broker did not acknowledge an event."""


class EventPublisher:
    """Signs events and writes them keyed by case_id, acknowledged by all replicas."""

    def __init__(
        self,
        bootstrap: list[str],
        codec: AvroCodec,
        keyring: KeyRing,
        credentials: BrokerCredentials = PLAINTEXT,
        institutions: Iterable[Institution] = (),
        flush_timeout: float = FLUSH_TIMEOUT_SECONDS,
        wait: float = BROKER_WAIT_SECONDS,
    ) -> None:
        """Publish through ``bootstrap``; ``institutions``' lanes say where each publishes.

        An institution not in ``institutions`` publishes on its own topic. ``flush_timeout``
        is how long a flush (and a close) waits for the broker's acknowledgements. The broker's
        topics are listed at the first send and again for each topic not seen yet, so a send
        to a topic the broker does not hold is refused at once (:mod:`.topic_presence`).

        Raises:
            kafka.errors.KafkaTimeoutError: no broker answered within ``wait`` s.
        """
        self.flush_timeout = flush_timeout
        self.codec = codec
        self.keyring = keyring
        registry = {inst.id: inst for inst in institutions}
        self._topics = {id_: inbound_topic_of(inst) for id_, inst in registry.items()}
        security = credentials.client_kwargs()
        self._presence = TopicPresence(broker_topics(bootstrap, security, wait), registry)
        self.producer = kafka_client(
            KafkaProducer,
            bootstrap,
            security,
            wait,
            acks="all",
            linger_ms=5,
            client_id="kawal-publisher",
        )
        self._pending: list[Any] = []

    def publish(self, event_type: str, record: dict[str, Any]) -> Any:
        """Sign one event and queue it on its source's inbound topic; return its future.

        Raises:
            streams.domain.signing.SigningKeyError: the ring holds no valid key of the source.
            schemas.codec.SchemaMismatchError: the record does not fit its schema.
            streams.broker.topic_presence.TopicMissingError: the broker holds no inbound topic
                of the source.
        """
        envelope = record["envelope"]
        key = self.keyring.signing_key(envelope["source"], envelope["event_time"])
        hub = hub_sealing_key(self.keyring.registry, envelope["event_time"])
        value = encode_signed(self.codec.catalog, self.codec, key, event_type, record, hub)
        headers = cloud_event_headers(envelope)
        return self.send_raw(envelope["source"], envelope["case_id"], value, headers)

    def send_raw(
        self,
        institution: str,
        case_id: str,
        value: bytes,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        """Queue raw bytes on an institution's inbound topic; return the send future.

        Raises:
            streams.broker.topic_presence.TopicMissingError: the broker does not hold the
                topic (a misspelt or unregistered institution, or topics not made yet).
        """
        topic = self._topics.get(institution) or inbound_topic(institution)
        self._presence.require(topic, institution)
        future = self.producer.send(topic, key=case_id.encode(), value=value, headers=headers or [])
        self._pending.append(future)
        return future

    def flush(self) -> int:
        """Wait for the broker's acknowledgements; return how many events it acknowledged.

        Raises:
            PublishError: some event was not acknowledged.
        """
        try:
            self.producer.flush(timeout=self.flush_timeout)
        except KafkaError as exc:
            raise PublishError(f"the broker did not acknowledge the events: {exc}") from exc
        pending, self._pending = self._pending, []
        # The producer's flush returns without error for a record not yet in a batch when the
        # deadline passed (seen under load with the broker frozen): its future is still open.
        unanswered = [future for future in pending if not future.is_done]
        failed = [future for future in pending if future.is_done and future.failed()]
        if unanswered or failed:
            why = failed[0].exception if failed else f"no answer within {self.flush_timeout} s"
            raise PublishError(
                f"{len(unanswered) + len(failed)} of {len(pending)} events were not "
                f"acknowledged ({why}); publish them again, event_ids make it safe"
            )
        return len(pending)

    def close(self) -> None:
        """Flush and release the connection, within the flush deadline.

        Raises:
            PublishError: some event was not acknowledged (then it is dropped, and the error
                says to publish it again).
        """
        try:
            self.flush()
        finally:
            self._close_producer()

    def _close_producer(self) -> None:
        if not close_within(self.producer, self.flush_timeout):
            log.warning("closing the producer: dropping records the broker did not take")
