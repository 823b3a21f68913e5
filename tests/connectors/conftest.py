"""Fixtures of the connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaProducer

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from streams.broker.checkpoints import CheckpointStore
from streams.broker.provision import provision_topics
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.topics import all_topics
from tests.brokers import start_ephemeral_broker
from tests.connectors.test_lapor_portal import opened_intake
from tests.lapor_support import seaweed_s3


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


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Location]:
    """The Lapor portal's evidence store (SeaweedFS S3) of one test file, shared by its tests.

    Each test's intake has a spool of its own; a file needing a store per test defines its own.
    """
    with seaweed_s3(tmp_path_factory.mktemp("lapor-s3")) as found:
        yield found


@pytest.fixture
def intake(location: S3Location, tmp_path: Path) -> Iterator[LaporIntake]:
    """A Lapor portal intake on the file's evidence store, with the test's own spool."""
    with opened_intake(location, tmp_path / "spool") as connector:
        yield connector
