"""Pytest fixtures for connector tests (registered as the pytest plugin ``kawal``).

``kawal_broker``: a real embedded tansu broker for the test session, with every hub topic
created, so that a connector's contract tests publish, consume and dead-letter for real: the
topics of every institution of the registry in force (``KAWAL_INSTITUTIONS_FILE``) and of the
bundled ones (:func:`connectors.contract_registry.contract_institutions`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.contract_registry import contract_institutions
from streams.broker.provision import provision_topics
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.topics import all_topics

#: Partitions of the test topics (as the hub's default).
PARTITIONS = 4


@pytest.fixture(scope="session")
def kawal_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Bootstrap servers of a real broker holding every hub topic."""
    broker = EmbeddedBroker.ephemeral(tmp_path_factory.mktemp("kawal-broker"), port=free_port())
    broker.start()
    try:
        bootstrap = [broker.bootstrap_servers]
        provision_topics(bootstrap, all_topics(contract_institutions(), PARTITIONS))
        yield bootstrap
    finally:
        broker.stop()
