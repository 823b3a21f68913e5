"""A feed entry an outbound connector fails on, in a way nobody foresaw, stops nothing.

Before, the failure ended the connector; started again, it met the same entry first, so one
entry held back every later entry of the institution's feed for good. On a broker of its own,
the entry is now dead-lettered as ``internal_error`` with the position to deliver it again
from once the defect is fixed, the failure's frames are logged without its text, and the next
entry is delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.producer.future import RecordMetadata

from connectors.base import ConnectorConfig, ConnectorContext, FeedEntry, OutboundConnector
from connectors.contract import FAST_RETRY, read_topic
from connectors.feed_chains import FeedChains
from connectors.outbound_runner import OutboundRunner
from connectors.signed_fixtures import contract_keyring, feed_entry_record
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.topics import DLQ, outbound_topic
from tests.hubtools import recommendation, report

PPK = "ppk.3374"
FEED = outbound_topic(PPK)
NAME = "defective-inbox"
#: What the failure's text quotes, as a third-party error's text may quote a record.
SECRET = "Siti Rahmawati 198501012010011001"
DEADLINE = 60.0


class DefectiveInbox(OutboundConnector[ConnectorConfig]):
    """A system's connector that fails on the entries named in ``fails_on``."""

    name = NAME

    def __init__(self) -> None:
        catalog = default_catalog()
        super().__init__(
            ConnectorConfig(institution=PPK), ConnectorContext(catalog, AvroCodec(catalog))
        )
        self.delivered: list[str] = []
        self.fails_on: set[str] = set()

    def deliver(self, entry: FeedEntry) -> None:
        """Keep the entry's event id, or fail as a defect would."""
        if entry.event_id in self.fails_on:
            raise KeyError(SECRET)
        self.delivered.append(entry.event_id)


@pytest.fixture
def producer(own_broker: str) -> Iterator[KafkaProducer]:
    """A producer on the test's own broker."""
    client = KafkaProducer(bootstrap_servers=[own_broker], acks="all")
    yield client
    client.close()


def publish(producer: KafkaProducer, inbox: DefectiveInbox) -> tuple[str, RecordMetadata]:
    """A new case's RecommendationIssued on the PPK's feed: its event id and place."""
    case_id = report()["envelope"]["case_id"]
    entry = feed_entry_record(inbox.context, "RecommendationIssued", recommendation(case_id), PPK)
    value = inbox.context.codec.encode("kawal.AuditEntry", entry)
    sent = producer.send(FEED, key=case_id.encode(), value=value).get(30)
    return str(entry["event_id"]), sent


def runner_of(inbox: DefectiveInbox, own_broker: str, metrics: ConnectorMetrics) -> OutboundRunner:
    """The inbox's runner, reading its whole feed as a group of its own."""
    consumer = KafkaConsumer(
        bootstrap_servers=[own_broker], group_id=NAME, enable_auto_commit=False
    )
    partitions = [TopicPartition(FEED, p) for p in sorted(consumer.partitions_for_topic(FEED))]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    producer = KafkaProducer(bootstrap_servers=[own_broker], acks="all")
    return OutboundRunner(
        inbox,
        consumer,
        producer,
        inbox.context.codec,
        FAST_RETRY,
        contract_keyring(),
        FeedChains(":memory:"),
        probe=metrics.probe(NAME, PPK),
    )


def test_an_entry_the_connector_fails_on_is_dead_lettered_and_the_next_delivered(
    own_broker: str, producer: KafkaProducer, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = DefectiveInbox()
    failing, place = publish(producer, inbox)
    inbox.fails_on.add(failing)
    later = [publish(producer, inbox)[0] for _ in range(3)]
    metrics = ConnectorMetrics()
    runner = runner_of(inbox, own_broker, metrics)
    try:
        with caplog.at_level(logging.INFO):
            deadline = time.monotonic() + DEADLINE
            while set(inbox.delivered) != set(later):
                assert time.monotonic() < deadline, f"delivered only {inbox.delivered}"
                runner.run_once(timeout_ms=200)
        committed = runner.consumer.committed(TopicPartition(FEED, place.partition))
    finally:
        runner.consumer.close()
        runner.producer.close()

    assert committed == place.offset + 4  # a feed has one partition: past all four entries
    codec = AvroCodec(default_catalog())
    letters = [codec.decode(m.value).record for m in read_topic([own_broker], DLQ)]
    [letter] = [x for x in letters if x["source_topic"] == FEED]
    position = f"{place.partition}:{place.offset}"
    assert (letter["source_partition"], letter["source_offset"]) == (place.partition, place.offset)
    assert letter["reason_code"] == "internal_error"
    assert letter["reason"] == (
        f"{NAME} failed on feed record {position} with KeyError, a defect of the connector: "
        f"its log shows where; once it is fixed, restart the connector once with "
        f"`--redeliver-from {position}`"
    )
    labels = {"connector": NAME, "institution": PPK, "reason": "internal_error"}
    assert metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) == 1
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert error.startswith(
        f"{NAME} failed on feed record {position} with KeyError, which nothing foresaw: the "
        "record is dead-lettered as internal_error and the connector goes on\n"
    )
    assert "in deliver" in error  # where: the frames
    assert SECRET not in "\n".join(r.getMessage() for r in caplog.records)
