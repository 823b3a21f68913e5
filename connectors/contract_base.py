"""What both directions of the connector contract suite share (:mod:`connectors.contract`).

The system under test and the connector made against it, fast retries for the broker-backed
tests, and reading a topic from its start.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from connectors.base import Connector, ConnectorConfig
from connectors.contract_registry import require_registered
from connectors.host import build
from connectors.retry import RetryPolicy
from streams.broker.topic_end import read_to_end

#: Retries of the broker-backed tests: few and short.
FAST_RETRY = RetryPolicy(attempts=2, initial_seconds=0.05, max_seconds=0.05)
#: Seconds the broker-backed tests wait for records.
WAIT_SECONDS = 30.0


def read_topic(bootstrap: list[str], topic: str, timeout: float = WAIT_SECONDS) -> list[Any]:
    """Every record of ``topic``, from its start to its end.

    Raises:
        TimeoutError: the end was not reached within ``timeout`` seconds.
    """
    return read_to_end(bootstrap, [topic], timeout)


class SystemContract(ABC):
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
        """A new connector instance (as after a restart) against ``system``.

        Raises:
            connectors.contract_registry.UnregisteredInstitutionError: its ``institution`` is
                in no registry the suite reads (the registry in force, the bundled one).
        """
        connector = build(self.connector_name, self.config(system, tmp_path) | overrides)
        try:
            require_registered(connector.institution)
        except Exception:
            connector.close()
            raise
        return connector
