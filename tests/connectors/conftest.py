"""Fixtures of the connector tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.broker.provision import provision_topics
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.topics import all_topics


@pytest.fixture
def embedded_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test alone, with every topic: a test may freeze it (its ``pid``)."""
    broker = EmbeddedBroker.ephemeral(tmp_path / "broker", port=free_port())
    broker.start()
    try:
        provision_topics([broker.bootstrap_servers], all_topics(load_institutions(), 4))
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def own_broker(embedded_broker: EmbeddedBroker) -> str:
    """A broker of this test alone (its DLQ and consumer groups start empty)."""
    return embedded_broker.bootstrap_servers
