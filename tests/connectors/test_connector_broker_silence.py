"""A connector whose broker stops answering says so, and says when it answers again.

The broker is frozen (SIGSTOP): it keeps its connections and answers nothing. A connector whose
system has nothing new learns nothing of that from its own loop (an inbound pass sends nothing,
an outbound fetch comes back empty), so its ``kawal_connector_up`` stayed 1 and nothing said how
long the broker had been silent. Now the broker's silence is exported
(``kawal_connector_broker_unanswered_seconds``), and past its grace (twice the broker wait, a
few seconds here) the connector is down and ``/readyz`` answers 503 ``broker: unreachable``;
once the broker is thawed both are healthy again. Conditions are waited for, never timed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Connector, ConnectorConfig, ConnectorContext
from connectors.host import only_copy, run_held
from connectors.signed_fixtures import contract_keyring
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from tests.connectors.test_inbound_refusals import AsItComes
from tests.connectors.test_outbound_broker_outage import Inbox
from tests.freezing import freeze, thaw
from tests.hubtools import http_get

pytestmark = pytest.mark.slow

#: Seconds a question waits for the broker: the grace is twice that.
WAIT = 2.0
#: Seconds any one condition is waited for: far more than it takes, even on a busy machine.
DEADLINE = 180.0


def _inbound() -> Connector[ConnectorConfig]:
    return AsItComes([])


def _outbound() -> Connector[ConnectorConfig]:
    catalog = default_catalog()
    return Inbox(
        ConnectorConfig(institution="ppk.3374"), ConnectorContext(catalog, AvroCodec(catalog))
    )


class Running:
    """A connector run as ``kawal connector run`` runs it, its metrics served on ``base``."""

    def __init__(self, connector: Connector[ConnectorConfig], broker: str, home: Path) -> None:
        self.connector = connector
        self.metrics = ConnectorMetrics()
        port = free_port()
        self.metrics.serve("127.0.0.1", port, 10.0)
        self.base = f"http://127.0.0.1:{port}"
        self.stop = threading.Event()
        self.failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(broker, home), daemon=True)
        self._thread.start()

    def _run(self, broker: str, home: Path) -> None:
        try:
            with only_copy(self.connector.name, home):
                run_held(
                    self.connector,
                    [broker],
                    home,
                    self.stop,
                    keyring=contract_keyring(),
                    metrics=self.metrics,
                    wait=WAIT,
                )
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure.append(exc)

    def sample(self, name: str) -> float | None:
        labels = {"connector": self.connector.name, "institution": self.connector.institution}
        return self.metrics.registry.get_sample_value(name, labels)

    def ready(self) -> tuple[int, dict[str, Any]]:
        status, body = http_get(f"{self.base}/readyz")
        return status, json.loads(body)

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not condition():
            assert not self.failure, f"the connector stopped: {self.failure!r}"
            assert time.monotonic() < deadline, (
                f"{what}: up={self.sample('kawal_connector_up')}, silence="
                f"{self.sample('kawal_connector_broker_unanswered_seconds')}, {self.ready()}"
            )
            time.sleep(0.5)

    def close(self) -> None:
        self.stop.set()
        self._thread.join(DEADLINE)


@pytest.fixture(params=[_inbound, _outbound], ids=["inbound", "outbound"])
def running(
    request: pytest.FixtureRequest, embedded_broker: EmbeddedBroker, tmp_path: Path
) -> Iterator[Running]:
    connector = request.param()
    run = Running(connector, embedded_broker.bootstrap_servers, tmp_path / "home")
    try:
        yield run
    finally:
        run.close()


def _up(run: Running) -> bool:
    return run.sample("kawal_connector_up") == 1.0


def test_a_frozen_broker_makes_the_connector_down_and_unready_until_it_answers(
    running: Running, embedded_broker: EmbeddedBroker
) -> None:
    grace = 2 * WAIT
    silence = "kawal_connector_broker_unanswered_seconds"
    running.until(lambda: _up(running) and running.ready()[0] == 200, "never up and ready")
    assert running.ready()[1] == {"status": "ok"}
    assert http_get(f"{running.base}/livez")[0] == 200
    pid = embedded_broker.pid
    assert pid is not None

    freeze(pid)
    try:
        running.until(lambda: running.ready()[0] == 503, "/readyz stayed 200 while frozen")
        body = running.ready()[1]
        assert (body["status"], body["broker"]) == ("degraded", "unreachable")
        assert body["connector"] == running.connector.name
        assert body["broker_unanswered_seconds"] >= grace
        assert (running.sample(silence) or 0.0) > grace
        assert running.sample("kawal_connector_up") == 0.0
        # Restarting the connector would not make the broker answer.
        assert http_get(f"{running.base}/livez")[0] == 200
    finally:
        thaw(pid)

    running.until(lambda: _up(running) and running.ready()[0] == 200, "not healthy once thawed")
    assert (running.sample(silence) or 0.0) <= grace
    assert not running.failure
