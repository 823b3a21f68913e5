"""Fixtures of the connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaProducer

from streams.broker.checkpoints import CheckpointStore
from streams.broker.provision import provision_topics
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.topics import all_topics
from tests.brokers import start_ephemeral_broker


@pytest.fixture
def embedded_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test alone, with every topic: a test may freeze it (its ``pid``)."""
    broker = start_ephemeral_broker(tmp_path / "broker")
    try:
        provision_topics([broker.bootstrap_servers], all_topics(load_institutions(), 4))
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def own_broker(embedded_broker: EmbeddedBroker) -> str:
    """A broker of this test alone (its DLQ and consumer groups start empty)."""
    return embedded_broker.bootstrap_servers


@pytest.fixture
def checkpoints(tmp_path: Path) -> Iterator[CheckpointStore]:
    """A checkpoint store of the test's own."""
    store = CheckpointStore(tmp_path / "checkpoints.db")
    yield store
    store.close()


@pytest.fixture
def producer(kawal_broker: list[str]) -> Iterator[KafkaProducer]:
    """A producer on the session's broker, every send acknowledged by it."""
    client = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    yield client
    client.close()
