"""A send to a topic the broker does not hold is refused at once, by the SDK, on the real broker.

tansu makes any topic a producer names, and Apache Kafka as the hub runs it makes none: either
way a sender that misspelt its institution (``kawal.inbound.bkm`` for ``bkn``) heard nothing
back. The publisher and the connector runtime now ask the broker which topics it holds (once,
then for each topic not seen yet) and refuse with a message naming the topic, saying that it
does not exist on the broker, and naming the institution's own inbound topic.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from monitoring.connectors import ConnectorMetrics
from streams.broker.checkpoints import CheckpointStore
from streams.broker.publisher import EventPublisher
from streams.broker.topic_presence import (
    TopicMissingError,
    TopicPresence,
    broker_topics,
    missing_topic_reason,
)
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import inbound_topic
from tests.connectors.test_inbound_refusals import INSTITUTION, NAME, AsItComes, report, runner_of
from tests.hubtools import default_codec
from tests.hubtools import report as report_event

#: A refusal comes from one metadata request, not from the producer's 60 s metadata wait.
AT_ONCE_SECONDS = 5.0


@pytest.fixture
def publisher(own_broker: EmbeddedBroker, tmp_path: Path) -> EventPublisher:
    settings = Settings(home=tmp_path / "home")
    ensure_local_keys(settings)
    return EventPublisher(
        [own_broker.bootstrap_servers],
        default_codec(),
        keyring_of(settings),
        flush_timeout=10,
    )


def test_a_misspelt_institution_is_refused_at_once_naming_the_topic_and_the_right_one(
    publisher: EventPublisher, own_broker: EmbeddedBroker
) -> None:
    started = time.monotonic()
    with pytest.raises(TopicMissingError) as refused:
        publisher.send_raw("bkm", "c3f9a6a2-0d4e-4b7e-9a51-2b1f0f6c9d11", b"a signed event")
    took = time.monotonic() - started
    publisher.close()

    message = str(refused.value)
    assert took < AT_ONCE_SECONDS
    assert "kawal.inbound.bkm does not exist on the broker" in message
    assert "did you mean kawal.inbound.bkn?" in message
    assert "kawal topics strays" in message
    # Refused before the producer asked for the topic: no stray topic was made of it.
    assert "kawal.inbound.bkm" not in broker_topics([own_broker.bootstrap_servers])()


def test_the_right_topic_is_published_to(publisher: EventPublisher) -> None:
    publisher.publish("ReportReceived", report_event("bkn"))

    assert publisher.flush() == 1
    publisher.close()


def test_a_registered_institution_whose_topics_were_not_made_is_told_to_make_them() -> None:
    institutions = {inst.id: inst for inst in load_institutions()}

    said = missing_topic_reason(inbound_topic("bkn"), "bkn", [], institutions)

    assert said.startswith("topic kawal.inbound.bkn does not exist on the broker")
    assert "bkn is registered and publishes on kawal.inbound.bkn" in said
    assert "kawal topics apply" in said


def test_the_broker_is_asked_once_then_only_for_a_topic_not_seen_yet(
    own_broker: EmbeddedBroker,
) -> None:
    bootstrap = [own_broker.bootstrap_servers]
    listings: list[Collection[str]] = []
    lister = broker_topics(bootstrap)

    def counted() -> Collection[str]:
        listings.append(listed := lister())
        return listed

    presence = TopicPresence(counted)
    for _record in range(5):
        presence.require(inbound_topic("bkn"), "bkn")
        presence.require(inbound_topic("bawaslu.33"), "bawaslu.33")
    assert len(listings) == 1  # one listing holds every topic, however many records
    with pytest.raises(TopicMissingError):
        presence.require(inbound_topic("baru"), "baru")
    assert len(listings) == 2
    # Made since (a new institution's topics applied): listed again, and then taken.
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(inbound_topic("baru"), 1, 1)])
    admin.close()
    presence.require(inbound_topic("baru"), "baru")
    assert len(listings) == 3


def test_an_inbound_connector_on_a_missing_topic_stops_before_reading_its_system(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bootstrap = [own_broker.bootstrap_servers]
    checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    connector = AsItComes([report()])
    runner = runner_of(connector, producer, checkpoints, ConnectorMetrics())
    runner.presence = TopicPresence(broker_topics(bootstrap))
    runner.topic = "kawal.inbound.bawaslu.3"  # a lane mistyped in a registry of its own

    try:
        with pytest.raises(TopicMissingError, match=r"kawal\.inbound\.bawaslu\.3 does not exist"):
            runner.run_once()
        assert checkpoints.get(NAME) is None  # nothing read, nothing skipped

        runner.topic = inbound_topic(INSTITUTION)
        assert runner.run_once() == 1
    finally:
        producer.close()
        checkpoints.close()
