"""``kawal_audit_store_up`` follows the audit store between transactions, and says why."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
from pathlib import Path

import pytest

from monitoring.metrics import HubMetrics
from streams.audit.store import AuditStore
from streams.hub.store_check import StoreCheck
from tests.postgres import PostgresServer


def store_up(metrics: HubMetrics) -> float:
    value = metrics.registry.get_sample_value("kawal_audit_store_up")
    assert value is not None
    return value


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    (tmp_path / "db").mkdir()
    audit = AuditStore(f"sqlite:///{tmp_path / 'db' / 'audit.db'}")
    audit.create_schema()
    return audit


def test_a_store_gone_between_transactions_is_down_and_logged_once(
    store: AuditStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = HubMetrics()
    check = StoreCheck(store, metrics)
    asyncio.run(check.check())
    assert store_up(metrics) == 1

    shutil.rmtree(tmp_path / "db")
    store.engine.dispose()  # no pooled connection to the removed file
    with caplog.at_level(logging.WARNING, logger="streams.hub.store_check"):
        asyncio.run(check.check())
        asyncio.run(check.check())
    assert store_up(metrics) == 0
    [said] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "the audit store does not answer (cannot reach the audit store" in said
    assert "docs/operations.md#kawalauditstoreunreachable" in said

    (tmp_path / "db").mkdir()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="streams.hub.store_check"):
        asyncio.run(check.check())
    assert store_up(metrics) == 1
    assert [r.getMessage() for r in caplog.records] == ["the audit store answers again"]


def test_a_store_that_answers_but_refuses_writes_stays_down_until_a_write_succeeds(
    store: AuditStore,
) -> None:
    metrics = HubMetrics()
    check = StoreCheck(store, metrics)
    metrics.store_failed()  # a transaction refused, e.g. on a full disk

    asyncio.run(check.check())
    assert store_up(metrics) == 0

    metrics.store_written(0.01)
    asyncio.run(check.check())
    assert store_up(metrics) == 1


def test_a_frozen_store_is_down_and_logged_once_without_a_thread_per_check(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A frozen PostgreSQL refuses nothing: each query waited forever, the gauge stayed 1 and
    # the log said nothing while every trail and probe hung.
    store = AuditStore(postgres.create_database("frozen_check"))
    store.create_schema()
    metrics = HubMetrics()
    check = StoreCheck(store, metrics, answer_seconds=2)
    seen: dict[str, float] = {}

    async def outage() -> None:
        # One event loop, as in a hub process: its checks share the query in flight.
        await check.check()
        seen["before"] = store_up(metrics)
        with postgres.frozen():
            threads = threading.active_count()
            for _ in range(3):
                await check.check()
            seen["frozen"] = store_up(metrics)
            seen["threads"] = threading.active_count() - threads
        await check.check()
        seen["after"] = store_up(metrics)

    try:
        with caplog.at_level(logging.WARNING, "streams.hub.store_check"):
            asyncio.run(outage())
    finally:
        store.close()

    assert (seen["before"], seen["frozen"], seen["after"]) == (1, 0, 1)
    assert seen["threads"] <= 1  # one query waits on the frozen store, not one per check
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2, said
    assert "does not answer (no answer within 2 s: the database is frozen" in said[0]
    assert "docs/operations.md#kawalauditstoreunreachable" in said[0]
    assert said[1] == "the audit store answers again"
