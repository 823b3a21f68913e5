"""The audit sink's tree heads, in process: when one is signed, what is sent, what is sent again.

The producer is a double that records what reaches the broker; the clock is the test's, so
nothing here waits on real time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka.errors import KafkaTimeoutError
from faust.types import RecordMetadata

from monitoring.metrics import HubMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.heads import HeadIssuer
from streams.audit.store import AuditStore
from streams.broker.transport import Record
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.merkle import verify_consistency
from streams.domain.tree_heads import TREE_HEAD_RECORD, SignedTreeHead, signature_problem
from streams.hub.heads import HEAD_KEY, HeadPublisher
from streams.hub.outbox import Outbox, PartitionCounts
from streams.hub.sink import AuditSink
from streams.topics import CASE_AUDIT, HEADS
from tests.audit.treetools import keyring, rewrite_case, signed_rows
from tests.clocks import ManualClock
from tests.storetools import open_store

CASE = "9c3f0c2a-0000-4000-8000-000000000001"
START = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=10)
CODEC = AvroCodec(default_catalog())


class Broker:
    """A producer double: what it accepted, per topic partition; it can refuse on demand."""

    def __init__(self) -> None:
        self.records: list[tuple[str, int, Record]] = []
        self.refusing = False

    async def send_records(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        done: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        if self.refusing:
            done.set_exception(KafkaTimeoutError())
        else:
            self.records += [(topic, partition, record) for record in records]
            done.set_result(RecordMetadata(topic, partition, None, 0, 0.0))  # type: ignore[arg-type]
        return [done]

    async def partition_count(self, topic: str) -> int:
        raise AssertionError(f"heads go to {HEADS}'s one partition, not to {topic}")

    def heads(self) -> list[SignedTreeHead]:
        found = []
        for topic, partition, (key, value, _headers) in self.records:
            assert (topic, partition, key) == (HEADS, 0, HEAD_KEY)
            decoded = CODEC.decode(value)
            assert decoded.full_name == TREE_HEAD_RECORD
            found.append(SignedTreeHead.from_record(decoded.record))
        return found


class Clock(ManualClock[datetime]):
    """The test's time, from :data:`START`, moved on an interval at a time."""

    def __init__(self) -> None:
        super().__init__(START)

    def advance(self, delta: timedelta = INTERVAL) -> None:
        self.now += delta


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    opened = open_store("sqlite", tmp_path, None)
    yield opened
    opened.close()


def publisher(store: AuditStore, ring: KeyRing, broker: Broker, clock: Clock) -> HeadPublisher:
    return HeadPublisher(
        HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, START)),
        CODEC,
        lambda: Outbox(broker, PartitionCounts(1)),
        INTERVAL,
        clock,
    )


def test_a_grown_log_gets_a_head_at_most_once_per_interval(
    store: AuditStore, ring: KeyRing
) -> None:
    broker, clock = Broker(), Clock()
    heads = publisher(store, ring, broker, clock)
    assert asyncio.run(heads.publish_due()) is None  # nothing stored yet
    store.insert(signed_rows(ring, CASE, 3))
    first = asyncio.run(heads.publish_due())
    assert first is not None
    assert first.tree_size == 3
    store.insert(signed_rows(ring, CASE, 2, start=4))
    clock.advance(INTERVAL / 2)
    assert asyncio.run(heads.publish_due()) is None  # too soon: the timer will come back
    clock.advance(INTERVAL / 2)
    second = asyncio.run(heads.publish_due())
    assert second is not None
    assert (second.tree_size, second.previous_size) == (5, 3)
    clock.advance()
    assert asyncio.run(heads.publish_due()) is None  # not grown
    assert broker.heads() == [first, second]
    assert signature_problem(second, ring.registry) is None
    assert verify_consistency(3, 5, first.root_hash, second.root_hash, second.consistency)
    assert second.issued_at == START + INTERVAL


def test_a_restarted_sink_sends_its_latest_head_again_first(
    store: AuditStore, ring: KeyRing
) -> None:
    broker, clock = Broker(), Clock()
    store.insert(signed_rows(ring, CASE, 3))
    first = asyncio.run(publisher(store, ring, broker, clock).publish_due())
    # The sink died before it knew the broker had the head; a new one starts.
    store.insert(signed_rows(ring, CASE, 1, start=4))
    clock.advance()
    second = asyncio.run(publisher(store, ring, broker, clock).publish_due())
    assert second is not None
    assert broker.heads() == [first, first, second]


def test_a_head_the_broker_refused_is_sent_before_any_newer_one(
    store: AuditStore, ring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    broker, clock = Broker(), Clock()
    heads = publisher(store, ring, broker, clock)
    store.insert(signed_rows(ring, CASE, 3))
    broker.refusing = True
    with caplog.at_level(logging.WARNING):
        assert asyncio.run(heads.publish_due()) is None
    assert "tree head not sent" in caplog.text
    assert broker.heads() == []
    broker.refusing = False
    store.insert(signed_rows(ring, CASE, 1, start=4))
    clock.advance()
    newer = asyncio.run(heads.publish_due())
    assert newer is not None
    sent = broker.heads()
    assert [head.tree_size for head in sent] == [3, 4]
    assert newer.previous_size == sent[0].tree_size


def test_no_head_is_published_over_a_rewritten_store(
    store: AuditStore, ring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    broker, clock = Broker(), Clock()
    store.insert(signed_rows(ring, CASE, 3))
    assert asyncio.run(publisher(store, ring, broker, clock).publish_due()) is not None
    rewrite_case(store, ring, CASE, 2)
    store.insert(signed_rows(ring, CASE, 1, start=4))
    clock.advance()
    restarted = publisher(store, ring, broker, clock)
    with caplog.at_level(logging.ERROR):
        assert asyncio.run(restarted.publish_due()) is None
    assert "no tree head signed" in caplog.text
    assert [head.tree_size for head in broker.heads()] == [3, 3]


def test_the_sink_publishes_a_head_after_a_batch_that_grew_the_log(
    store: AuditStore, ring: KeyRing
) -> None:
    broker, clock = Broker(), Clock()
    sink = AuditSink(
        codec=CODEC,
        store=store,
        metrics=HubMetrics(),
        keys=ring.registry,
        new_outbox=lambda: Outbox(broker, PartitionCounts(1)),
        heads=publisher(store, ring, broker, clock),
    )
    messages = [audit_message(row, offset) for offset, row in enumerate(signed_rows(ring, CASE, 3))]
    asyncio.run(sink.write_batch(messages))
    assert [head.tree_size for head in broker.heads()] == [3]
    clock.advance()
    asyncio.run(sink.write_batch(messages))  # redelivered: nothing new, no head
    assert [head.tree_size for head in broker.heads()] == [3]


def audit_message(row: dict[str, Any], offset: int) -> faust.types.Message:
    """``row`` as ``kawal.case.audit`` delivers it."""
    entry = row | {"disclosures": json.loads(row["disclosures"])}
    return faust.types.Message(
        topic=CASE_AUDIT,
        partition=0,
        offset=offset,
        timestamp=time.time(),
        timestamp_type=0,
        headers=[],
        key=row["case_id"].encode(),
        value=CODEC.encode("kawal.AuditEntry", entry),
        checksum=None,
    )


def test_a_head_the_store_refuses_shows_the_store_down_until_one_is_stored(
    tmp_path: Path, ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Storing a head is a write: with no batch coming (an idle hub on a full disk), the head
    # is the only write that can show the store refusing them.
    monkeypatch.setattr("streams.audit.store.SQLITE_BUSY_TIMEOUT_MS", 100)
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    store.create_schema()
    store.insert(signed_rows(ring, CASE, 2))
    metrics, broker = HubMetrics(), Broker()
    heads = HeadPublisher(
        HeadIssuer(store, ring.signing_key(HUB_INSTITUTION, START)),
        CODEC,
        lambda: Outbox(broker, PartitionCounts(1)),
        INTERVAL,
        Clock(),
        metrics=metrics,
    )
    lock = sqlite3.connect(tmp_path / "audit.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")

    assert asyncio.run(heads.publish_due()) is None

    assert metrics.writes_failing
    assert metrics.registry.get_sample_value("kawal_audit_store_up") == 0
    lock.execute("ROLLBACK")
    lock.close()
    head = asyncio.run(heads.publish_due())
    assert head is not None
    assert head.tree_size == 2
    assert not metrics.writes_failing
    assert metrics.registry.get_sample_value("kawal_audit_store_up") == 1
    store.close()
