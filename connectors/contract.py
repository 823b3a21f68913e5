"""The connector contract suite: a connector's test file subclasses it in a few lines.

Inbound::

    class TestMyInbound(InboundContract):
        connector_name = "my-inbound"
        def start_system(self, tmp_path): ...      # a context manager yielding the simulator
        def config(self, system, tmp_path): ...    # the connector's configuration (a dict)
        def add_records(self, system, count): ...  # count valid records in the system
        def add_malformed(self, system): ...       # one record that cannot be mapped
        def unreachable(self, system): ...         # a context manager: the system is down

Outbound: ``start_system``, ``config``, ``unreachable`` as above, plus ``feed_events()`` (event
records the connector handles) and ``effects(system, event_id)`` (how many times the system
recorded that event: 1 after any number of deliveries).

The suite checks the mapping against the shared schemas, checkpoint and resume, idempotent
delivery, and that errors end in ``kawal.dlq`` with a reason, on a real broker (fixture
``kawal_broker`` of the ``kawal`` pytest plugin, :mod:`connectors.testing`).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.base import (
    Connector,
    ConnectorConfig,
    FeedEntry,
    InboundConnector,
    OutboundConnector,
    SourceRecord,
)
from connectors.errors import PermanentError, TransientError
from connectors.feed_chains import FeedChains
from connectors.host import build
from connectors.retry import RetryPolicy
from connectors.runtime import InboundRunner, OutboundRunner, system_topic
from connectors.signed_fixtures import (
    contract_keyring,
    feed_disclosures,
    feed_entry_record,
    signed_event_of,
)
from schemas.errors import KawalError
from streams.broker.checkpoints import CheckpointStore
from streams.broker.dead_letters import ReplayFilter, replay_dead_letters
from streams.domain.commitments import reveal
from streams.topics import DLQ, inbound_topic, outbound_topic

#: Retries of the broker-backed tests: few and short.
FAST_RETRY = RetryPolicy(attempts=2, initial_seconds=0.05, max_seconds=0.05)
#: Seconds the broker-backed tests wait for records.
WAIT_SECONDS = 30.0


def read_topic(bootstrap: list[str], topic: str, timeout: float = 5.0) -> list[Any]:
    """Every record of ``topic`` (from the beginning; stops after ``timeout`` s of silence)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=int(timeout * 1000),
        fetch_max_wait_ms=5,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return list(consumer)
    finally:
        consumer.close()


class _Contract(ABC):
    """Fixtures shared by both directions."""

    #: Name the connector is registered under.
    connector_name: ClassVar[str]

    @abstractmethod
    def start_system(self, tmp_path: Path) -> AbstractContextManager[Any]:
        """A context manager running the institution's system (its simulator)."""

    @abstractmethod
    def config(self, system: Any, tmp_path: Path) -> dict[str, Any]:
        """The connector's configuration against ``system``."""

    @abstractmethod
    def unreachable(self, system: Any) -> AbstractContextManager[None]:
        """A context manager during which the system cannot be reached."""

    @pytest.fixture
    def system(self, tmp_path: Path) -> Iterator[Any]:
        """The running system."""
        with self.start_system(tmp_path) as running:
            yield running

    def make(self, system: Any, tmp_path: Path, **overrides: Any) -> Connector[ConnectorConfig]:
        """A new connector instance (as after a restart) against ``system``."""
        return build(self.connector_name, self.config(system, tmp_path) | overrides)


class InboundContract(_Contract):
    """Contract of an :class:`InboundConnector`."""

    @abstractmethod
    def add_records(self, system: Any, count: int) -> None:
        """Put ``count`` new valid records into the system."""

    @abstractmethod
    def add_malformed(self, system: Any) -> None:
        """Put one record the connector cannot map into the system."""

    def inbound(self, system: Any, tmp_path: Path) -> InboundConnector[ConnectorConfig]:
        """A new inbound connector against ``system``."""
        connector = self.make(system, tmp_path)
        assert isinstance(connector, InboundConnector)
        return connector

    def test_mapped_events_round_trip_through_the_shared_schemas(
        self, system: Any, tmp_path: Path
    ) -> None:
        """Every mapped event encodes and decodes with the shared schemas; ids are stable."""
        self.add_records(system, 3)
        connector = self.inbound(system, tmp_path)
        codec = connector.context.codec
        records = connector.read(None, 10)
        assert len(records) == 3
        for record in records:
            events = connector.to_events(record)
            assert events, "every valid record maps to at least one event"
            for event in events:
                assert event.record["envelope"]["source"] == connector.institution
                decoded = codec.decode(codec.encode(event.event_type, event.record))
                assert decoded.full_name == f"kawal.events.{event.event_type}"
                assert (
                    decoded.record["envelope"]["event_id"] == event.record["envelope"]["event_id"]
                )
            again = [e.record["envelope"]["event_id"] for e in connector.to_events(record)]
            assert again == [e.record["envelope"]["event_id"] for e in events]
        connector.close()

    def test_reads_resume_after_the_checkpoint(self, system: Any, tmp_path: Path) -> None:
        """Reading after a checkpoint yields exactly the records after it."""
        self.add_records(system, 5)
        connector = self.inbound(system, tmp_path)
        first = list(connector.read(None, 2))
        rest = list(connector.read(first[-1].position, 10))
        assert len(first) == 2
        assert [r.source_id for r in first + rest] == [
            r.source_id for r in connector.read(None, 10)
        ]
        assert len({r.source_id for r in first + rest}) == 5
        assert connector.read(rest[-1].position, 10) == []
        connector.close()

    def test_a_restart_resumes_without_loss_or_duplicates(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """A restarted connector publishes every record's events once."""
        self.add_records(system, 5)
        published = self._run(system, tmp_path, kawal_broker, batch_size=2)  # stops after 2
        self.add_records(system, 2)
        published += self._run(system, tmp_path, kawal_broker, batch_size=100)
        ids = [e.record["envelope"]["event_id"] for e in published]
        connector = self.inbound(system, tmp_path)
        on_topic = [
            m
            for m in read_topic(kawal_broker, inbound_topic(connector.institution))
            if _event_id(connector.context.codec, m.value) in set(ids)
        ]
        assert len(ids) == len(set(ids)) == len(on_topic)
        connector.close()

    def _run(self, system: Any, tmp_path: Path, bootstrap: list[str], batch_size: int) -> list[Any]:
        """One batch by a fresh connector and runner (as after a restart); the events it sent."""
        connector = self.inbound(system, tmp_path)
        checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        try:
            before = checkpoints.get(connector.name)
            runner = InboundRunner(
                connector,
                producer,
                connector.context.codec,
                checkpoints,
                FAST_RETRY,
                contract_keyring(),
                batch_size,
            )
            if runner.run_once() == 0:
                return []
            return self._mapped(connector, connector.read(before, batch_size))
        finally:
            producer.close()
            checkpoints.close()
            connector.close()

    @staticmethod
    def _mapped(
        connector: InboundConnector[ConnectorConfig], records: Sequence[SourceRecord]
    ) -> list[Any]:
        events = []
        for record in records:
            try:
                events.extend(connector.to_events(record))
            except PermanentError:
                continue
        return events

    def test_a_malformed_record_goes_to_the_dlq_and_the_rest_goes_on(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """An unmappable record is dead-lettered with its reason; later records flow."""
        self.add_malformed(system)
        self.add_records(system, 1)
        connector = self.inbound(system, tmp_path)
        malformed = connector.read(None, 1)[0]
        with pytest.raises(PermanentError) as refused:
            connector.to_events(malformed)
        assert refused.value.reason_code
        events = self._run(system, tmp_path, kawal_broker, batch_size=100)
        assert len(events) >= 1
        letters = [
            connector.context.codec.decode(m.value).record for m in read_topic(kawal_broker, DLQ)
        ]
        mine = [
            letter
            for letter in letters
            if letter["source_topic"] == system_topic(connector.name)
            and malformed.source_id in letter["reason"]
        ]
        assert mine, "the malformed record is in kawal.dlq"
        assert mine[-1]["reason_code"] == refused.value.reason_code
        connector.close()

    def test_an_unreachable_system_is_retried_and_nothing_is_skipped(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """An outage is retried; the checkpoint stays until records are published."""
        self.add_records(system, 2)
        with self.unreachable(system):
            connector = self.inbound(system, tmp_path)
            with pytest.raises(TransientError):
                connector.read(None, 10)
            connector.close()
            assert self._run(system, tmp_path, kawal_broker, batch_size=100) == []
        assert len(self._run(system, tmp_path, kawal_broker, batch_size=100)) >= 2


class OutboundContract(_Contract):
    """Contract of an :class:`OutboundConnector`."""

    @abstractmethod
    def feed_events(self) -> list[tuple[str, dict[str, Any]]]:
        """Event records (type, record) of kinds the connector delivers, each a new event."""

    @abstractmethod
    def effects(self, system: Any, event_id: str) -> int:
        """How many times the system recorded the effect of ``event_id``."""

    def outbound(self, system: Any, tmp_path: Path) -> OutboundConnector[ConnectorConfig]:
        """A new outbound connector against ``system``."""
        connector = self.make(system, tmp_path)
        assert isinstance(connector, OutboundConnector)
        return connector

    def entries(self, connector: OutboundConnector[ConnectorConfig]) -> list[FeedEntry]:
        """Feed entries of :meth:`feed_events`, as the connector receives them."""
        codec = connector.context.codec
        found = []
        for event_type, record in self.feed_events():
            entry = feed_entry_record(connector.context, event_type, record, connector.institution)
            shown = feed_disclosures(connector.context, entry, connector.institution)
            event = reveal(codec.decode(entry["event"]).record, shown)
            found.append(FeedEntry(entry=entry, event=event, event_type=event_type))
        return found

    def test_each_feed_entry_is_delivered(self, system: Any, tmp_path: Path) -> None:
        """Each feed entry has its effect in the system."""
        connector = self.outbound(system, tmp_path)
        for entry in self.entries(connector):
            connector.deliver(entry)
            assert self.effects(system, entry.event_id) == 1
        connector.close()

    def test_delivery_is_idempotent_on_event_id(self, system: Any, tmp_path: Path) -> None:
        """Delivering an entry again, even after a restart, changes nothing."""
        connector = self.outbound(system, tmp_path)
        entries = self.entries(connector)
        for entry in entries + entries:
            connector.deliver(entry)
        restarted = self.outbound(system, tmp_path)
        restarted.deliver(entries[0])
        for entry in entries:
            assert self.effects(system, entry.event_id) == 1
        connector.close()
        restarted.close()

    def test_an_outage_is_transient(self, system: Any, tmp_path: Path) -> None:
        """While the system is down, delivery raises TransientError and has no effect."""
        connector = self.outbound(system, tmp_path)
        entry = self.entries(connector)[0]
        with self.unreachable(system), pytest.raises(TransientError):
            connector.deliver(entry)
        assert self.effects(system, entry.event_id) == 0
        connector.close()

    def test_an_outage_ends_in_the_dlq_and_redelivery_from_its_position_delivers(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """Retries run out into kawal.dlq; replay leaves the feed; redelivery delivers once.

        `kawal dlq replay` sends only back to inbound topics, so the connector delivers the
        entry again from the letter's source position (as `--redeliver-from` makes it).
        """
        connector = self.outbound(system, tmp_path)
        codec = connector.context.codec
        entry = self.entries(connector)[0]
        consumer, producer = self._clients(connector, kawal_broker)
        chains = FeedChains(":memory:")
        runner = OutboundRunner(
            connector, consumer, producer, codec, FAST_RETRY, contract_keyring(), chains
        )
        feed = outbound_topic(connector.institution)
        try:
            value = codec.encode("kawal.AuditEntry", entry.entry)
            sent = producer.send(feed, key=entry.case_id.encode(), value=value).get(30)
            with self.unreachable(system):
                self._until_handled(runner)
            assert self.effects(system, entry.event_id) == 0
            selection = ReplayFilter(source_topic=feed, reason_code="delivery_failed")
            outcome = replay_dead_letters(
                kawal_broker, codec, tmp_path, selection, contract_keyring()
            )
            assert outcome.replayed == 0
            assert outcome.not_replayable >= 1
            assert all("--redeliver-from" in reason for _, reason in outcome.refusals)
            assert runner.run_once(timeout_ms=300) == 0, "replay wrote to the feed"
            consumer.seek(TopicPartition(feed, sent.partition), sent.offset)
            self._until_handled(runner)
            assert self.effects(system, entry.event_id) == 1
        finally:
            consumer.close()
            producer.close()
            connector.close()

    def _clients(
        self, connector: OutboundConnector[ConnectorConfig], bootstrap: list[str]
    ) -> tuple[KafkaConsumer, KafkaProducer]:
        topic = outbound_topic(connector.institution)
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=f"contract-{uuid.uuid4().hex}",
            enable_auto_commit=False,
            fetch_max_wait_ms=5,
        )
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_end(*partitions)
        for partition in partitions:
            consumer.position(partition)  # resolve the end now, before anything is produced
        return consumer, KafkaProducer(bootstrap_servers=bootstrap, acks="all")

    @staticmethod
    def _until_handled(runner: OutboundRunner) -> None:
        for _ in range(int(WAIT_SECONDS * 10)):
            if runner.run_once(timeout_ms=100):
                return
        raise AssertionError(f"nothing arrived on the outbound feed in {WAIT_SECONDS} s")


def _event_id(codec: Any, value: bytes) -> str | None:
    """The event id of a signed inbound record; None for a record that is not one.

    Other tests write to the same topics of the shared broker, refused records included.
    """
    try:
        event_id: str = signed_event_of(codec, value)["envelope"]["event_id"]
    except KawalError:
        return None
    return event_id
