"""Session fixtures: one real tansu broker and one real hub worker for the whole test run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.broker.provision import provision_topics
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys
from streams.settings import Settings
from streams.topics import all_topics
from tests.brokers import start_ephemeral_broker
from tests.hubtools import RunningHub, start_hub
from tests.keytools import add_dated_keys
from tests.postgres import PostgresServer


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """An ephemeral tansu broker on a free loopback port, killed at the end of the session."""
    embedded = start_ephemeral_broker(tmp_path_factory.mktemp("broker"))
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of one test alone, its topics made: nothing of the session hub reaches it."""
    yield from _provisioned_broker(tmp_path / "broker")


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A broker of one test file alone, its topics made, for a hub its tests share."""
    yield from _provisioned_broker(tmp_path_factory.mktemp("broker"))


def _provisioned_broker(log_dir: Path) -> Iterator[EmbeddedBroker]:
    broker = start_ephemeral_broker(log_dir)
    try:
        provision_topics(
            [broker.bootstrap_servers], all_topics(load_institutions(), Settings().partitions)
        )
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def hub(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """`kawal worker` and `kawal sink` on the session broker, with their own home and ports."""
    home = tmp_path_factory.mktemp("hub")
    settings = Settings(home=home)
    ensure_local_keys(settings)
    add_dated_keys(settings)
    running = start_hub(broker.url, home)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server, started on first use and stopped at the end of the session."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
