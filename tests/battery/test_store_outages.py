"""Battery: PostgreSQL under a running hub crashes, comes back, freezes and thaws.

The audit store and the data-key vault share one database, as in production. While it is down
ops see it (``/readyz`` 503, ``kawal_audit_store_up`` 0 on the worker and the sink, the vault
gauge 0 once a new case needs a key), readers get 503 ``store_unavailable``, and the events
sent meanwhile wait; once it is back every event is stored exactly once, nothing is
dead-lettered and every chain verifies. A frozen server (its processes stopped) is seen too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from streams.audit.tables import AuditRow
from streams.local.embedded import EmbeddedBroker
from streams.topics import DLQ
from tests.hubtools import (
    RunningHub,
    http_get,
    metric_value,
    recommendation,
    report,
    start_hub,
)
from tests.postgres import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.battery]

#: Longest wait for a condition, s: a guard against a hang only (the vault retries every 30 s).
WAIT_SECONDS = 300.0
#: What must never be in a log: tests.hubtools.report's personal data.
PERSONAL = ("Test Reporter", "Test Subject", "198501012010011001")


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test alone: it is stopped and frozen."""
    own = PostgresServer()
    own.start()
    try:
        yield own
    finally:
        own.stop()


def _until(what: str, condition: object) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            if callable(condition) and condition():
                return
        except OSError:
            pass  # a probe that timed out on a frozen store: ask again
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def _ready(hub: RunningHub) -> list[tuple[int, dict[str, object]]]:
    answers = [http_get(f"{base}/readyz") for base in (hub.base_url, hub.sink_url)]
    return [(status, json.loads(body)) for status, body in answers]


def _store_up(hub: RunningHub) -> list[float]:
    return [metric_value(base, "kawal_audit_store_up") for base in (hub.base_url, hub.sink_url)]


def _unreachable(hub: RunningHub) -> bool:
    down = (503, {"status": "degraded", "audit_store": "unreachable"})
    return _ready(hub) == [down, down] and _store_up(hub) == [0, 0]


def _back(hub: RunningHub) -> bool:
    return [status for status, _ in _ready(hub)] == [200, 200] and _store_up(hub) == [1, 1]


def _stored_once(hub: RunningHub, entries: int) -> bool:
    hub.store.engine.dispose()  # no connection of the server that went away
    query = select(func.count(), func.count(AuditRow.event_id.distinct()))
    with hub.store.engine.connect() as conn:
        total, distinct = conn.execute(query).one()
    assert total == distinct, "an event stored twice"
    return bool(total == entries)


def test_postgresql_down_frozen_and_back_loses_and_duplicates_nothing(
    own_broker: EmbeddedBroker, server: PostgresServer, tmp_path: Path
) -> None:
    url = server.create_database("outage")
    home = tmp_path / "home"
    hub = start_hub(own_broker.url, home, url, hub_env={"KAWAL_VAULT_URL": url})
    try:
        cases = [hub.open_case() for _ in range(2)]
        token = hub.operator_token()

        server.halt()
        new = report()
        hub.publish("ReportReceived", new)
        hub.publish("RecommendationIssued", recommendation(cases[0]))
        _until("the hub did not report the store down", lambda: _unreachable(hub))
        status, body = http_get(f"{hub.base_url}/cases/{cases[0]}/trail", token)
        assert (status, json.loads(body)["reason"]) == (503, "store_unavailable")
        _until(
            "the vault gauge stayed up", lambda: metric_value(hub.base_url, "kawal_vault_up") == 0
        )

        server.resume()
        _until("the held events were not stored", lambda: _stored_once(hub, 10))
        _until("the hub did not report the store back", lambda: _back(hub))
        assert len(hub.store.trail(cases[0])) == 5
        assert len(hub.store.trail(new["envelope"]["case_id"])) == 1
        assert metric_value(hub.base_url, "kawal_vault_up") == 1

        with server.frozen():
            _until("the hub did not report the frozen store", lambda: _unreachable(hub))
        _until("the hub did not report the thawed store", lambda: _back(hub))

        assert hub.read(DLQ, lambda _letter: True, timeout=5) == []
        env = dict(os.environ, KAWAL_HOME=str(home), KAWAL_AUDIT_DB_URL=url, KAWAL_VAULT_URL=url)
        verified = subprocess.run(
            [sys.executable, "-m", "streams.cli", "audit", "verify"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "verified 3 cases, 10 entries" in verified.stdout
        logs = hub.worker.log_tail(2000) + hub.sink.log_tail(2000)
        assert "the data-key vault answers again" in logs
        assert "Traceback" not in logs
        assert not [value for value in PERSONAL if value in logs]
    finally:
        hub.stop()
