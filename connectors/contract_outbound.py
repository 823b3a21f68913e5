"""The contract suite of an outbound connector (:mod:`connectors.contract` tells how to use it).

It checks delivery, its idempotence on event ids, and that an outage holds the feed at the entry
not delivered (nothing dead-lettered) until the system takes it.
"""

from __future__ import annotations

import uuid
from abc import abstractmethod
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.base import ConnectorConfig, FeedEntry, OutboundConnector
from connectors.contract_base import FAST_RETRY, WAIT_SECONDS, SystemContract, read_topic
from connectors.errors import TransientError
from connectors.feed_chains import FeedChains
from connectors.outbound_runner import OutboundRunner
from connectors.signed_fixtures import contract_keyring, feed_disclosures, feed_entry_record
from monitoring.connectors import ConnectorMetrics
from streams.domain.commitments import reveal
from streams.topics import DLQ, outbound_topic

#: Passes that gave up on the system, counted per connector.
FAILURES = "kawal_connector_failures_total"


class OutboundContract(SystemContract):
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

    def test_an_outage_holds_the_feed_until_the_system_takes_the_entry(
        self, system: Any, tmp_path: Path, kawal_broker: list[str]
    ) -> None:
        """Retries run out into a hold, not into kawal.dlq; the entry is delivered once back.

        The runner tries the entry again pass after pass while the system is down, reads
        nothing after it, and delivers it once when the system is back.
        """
        connector = self.outbound(system, tmp_path)
        codec = connector.context.codec
        entry = self.entries(connector)[0]
        consumer, producer = self._clients(connector, kawal_broker)
        metrics = ConnectorMetrics()
        runner = OutboundRunner(
            connector,
            consumer,
            producer,
            codec,
            FAST_RETRY,
            contract_keyring(),
            FeedChains(":memory:"),
            probe=metrics.probe(connector.name, connector.institution),
        )
        feed = outbound_topic(connector.institution)
        labels = {"connector": connector.name, "institution": connector.institution}
        try:
            value = codec.encode("kawal.AuditEntry", entry.entry)
            sent = producer.send(feed, key=entry.case_id.encode(), value=value).get(30)
            with self.unreachable(system):
                for _ in range(int(WAIT_SECONDS * 10)):
                    runner.run_once(timeout_ms=100)
                    if metrics.registry.get_sample_value(FAILURES, labels) == 2:
                        break
                assert metrics.registry.get_sample_value(FAILURES, labels) == 2
                assert metrics.registry.get_sample_value("kawal_connector_up", labels) == 0
            assert self.effects(system, entry.event_id) == 0
            self._until_handled(runner)
            assert self.effects(system, entry.event_id) == 1
            assert metrics.registry.get_sample_value("kawal_connector_up", labels) == 1
            position = consumer.committed(TopicPartition(feed, sent.partition))
            assert position == sent.offset + 1
        finally:
            consumer.close()
            producer.close()
            connector.close()
        letters = [codec.decode(m.value).record for m in read_topic(kawal_broker, DLQ)]
        assert not [
            letter
            for letter in letters
            if (letter["source_topic"], letter["source_offset"]) == (feed, sent.offset)
        ], "an entry not delivered during the outage was dead-lettered"

    def _clients(
        self, connector: OutboundConnector[ConnectorConfig], bootstrap: list[str]
    ) -> tuple[KafkaConsumer, KafkaProducer]:
        consumer = feed_from_its_end(outbound_topic(connector.institution), bootstrap)
        return consumer, KafkaProducer(bootstrap_servers=bootstrap, acks="all")

    @staticmethod
    def _until_handled(runner: OutboundRunner) -> None:
        for _ in range(int(WAIT_SECONDS * 10)):
            if runner.run_once(timeout_ms=100):
                return
        raise AssertionError(f"nothing arrived on the outbound feed in {WAIT_SECONDS} s")


def feed_from_its_end(topic: str, bootstrap: list[str]) -> KafkaConsumer:
    """A consumer of feed ``topic`` from its end now: only what is produced after the call."""
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
    return consumer
