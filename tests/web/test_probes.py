"""Liveness and readiness: ``/livez`` answers while the process lives, ``/readyz`` (and its older
name ``/health``) only while it can serve, so an outage of the audit store holds traffic back
without an orchestrator restarting the process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
import pytest

from streams.local.embedded import EmbeddedBroker
from tests.hubtools import http_get, metric_value, start_hub
from tests.postgres import PostgresServer

pytestmark = pytest.mark.slow


def _answer(url: str) -> tuple[int, dict[str, object]]:
    status, body = http_get(url)
    return status, json.loads(body)


def test_readiness_follows_the_audit_store_and_liveness_does_not(
    own_broker: EmbeddedBroker, postgres: PostgresServer, tmp_path: Path
) -> None:
    audit = postgres.create_database("probes_audit")
    hub = start_hub(own_broker.url, tmp_path / "home", audit)
    try:
        for base in (hub.base_url, hub.sink_url):
            assert _answer(f"{base}/livez") == (200, {"status": "alive"})
            status, ready = _answer(f"{base}/readyz")
            assert (status, ready["status"]) == (200, "ok")
            assert _answer(f"{base}/health")[0] == 200
            assert metric_value(base, "kawal_audit_store_up") == 1

        with psycopg.connect(postgres.admin_dsn, autocommit=True) as conn:
            conn.execute('DROP DATABASE "probes_audit" WITH (FORCE)')
        deadline = time.monotonic() + 30
        while _answer(f"{hub.base_url}/readyz")[0] == 200:
            assert time.monotonic() < deadline, "readiness ignored the lost audit store"
            time.sleep(0.5)

        assert _answer(f"{hub.base_url}/readyz") == (
            503,
            {"status": "degraded", "audit_store": "unreachable"},
        )
        assert _answer(f"{hub.base_url}/health")[0] == 503
        assert _answer(f"{hub.base_url}/livez") == (200, {"status": "alive"})
        # Nothing is being written: the gauge follows the store's checks, in both processes.
        for base in (hub.base_url, hub.sink_url):
            while metric_value(base, "kawal_audit_store_up") != 0:
                assert time.monotonic() < deadline, f"{base} still reports the store up"
                time.sleep(0.5)
    finally:
        hub.stop()
