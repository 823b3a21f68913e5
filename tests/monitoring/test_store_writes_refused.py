"""A store that answers reads but refuses the sink's writes: readiness says so, the log says when
writes are taken again, and the held batch is stored once."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from connectors.signed_fixtures import contract_keyring
from monitoring.metrics import HubMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.store import AuditStore
from streams.hub.outbox import Outbox
from streams.hub.sink import AuditSink
from streams.web.views import store_readiness

#: Seconds the test's second connection holds the store's write lock.
LOCKED_SECONDS = 1.5


def _no_outbox() -> Outbox:
    raise AssertionError("no dead letter is written here")


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    audit = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    audit.create_schema()
    return audit


def test_readiness_is_degraded_while_writes_are_refused_and_ok_once_one_succeeds(
    store: AuditStore,
) -> None:
    metrics = HubMetrics()
    assert store_readiness(store, metrics) == (200, {"status": "ok", "audit_entries": 0})

    metrics.store_failed()  # the store answers a count, but refused the last transaction
    assert store_readiness(store, metrics) == (
        503,
        {"status": "degraded", "audit_store": "refusing_writes"},
    )

    metrics.store_written(0.01)
    assert store_readiness(store, metrics)[0] == 200


def test_the_sink_says_when_a_locked_store_takes_its_writes_again(
    store: AuditStore,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("streams.audit.store.SQLITE_BUSY_TIMEOUT_MS", 100)
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    metrics = HubMetrics()
    sink = AuditSink(
        AvroCodec(default_catalog()), store, metrics, contract_keyring().registry, _no_outbox
    )
    lock = sqlite3.connect(tmp_path / "audit.db", isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(LOCKED_SECONDS, lock.execute, args=("ROLLBACK",))
    release.start()

    with caplog.at_level(logging.WARNING, logger="streams.hub.sink"):
        asyncio.run(sink.insert_until_stored([], {("kawal.case.audit", 0): 7}))

    release.join()
    lock.close()
    said = [record.getMessage() for record in caplog.records]
    assert any("database is locked" in line for line in said[:-1])
    assert "the audit store takes writes again, after" in said[-1]
    assert "nothing is to be replayed" in said[-1]
    assert store_readiness(store, metrics)[0] == 200
