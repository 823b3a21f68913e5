"""A hub of one test file alone, and the CLI pointed at it, for ``kawal dlq`` through a real hub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.local.embedded import EmbeddedBroker
from tests.hubtools import RunningHub, start_hub


@pytest.fixture(scope="module")
def dlq_hub(
    module_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningHub]:
    """A worker and sink of this file alone: its replays select only its own letters."""
    running = start_hub(module_broker.url, tmp_path_factory.mktemp("hub"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def dlq_cli(
    dlq_hub: RunningHub, module_broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI pointed at the hub's broker and home (whose key opens the sealed letters)."""
    monkeypatch.setenv("KAWAL_HOME", str(dlq_hub.home))
    monkeypatch.setenv("KAWAL_BROKER_URL", module_broker.url)
