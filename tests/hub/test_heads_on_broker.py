"""`kawal sink` on a real broker publishes signed tree heads an institution keeps and checks.

The sink alone runs here (on a broker of this test), fed audit entries straight on
``kawal.case.audit``: what is under test is the heads it publishes on ``kawal.heads``, which a
connector's keeper reads from the beginning, and what ``kawal audit verify --heads`` finds
with them after the store is rewritten.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.heads import HeadKeeper
from streams.audit.head_check import HeadFinding, verify_heads
from streams.audit.store import AuditStore
from streams.domain.keys import load_key_registry
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from streams.topics import CASE_AUDIT, HEADS
from tests.audit.treetools import CODEC, rewrite_case, signed_rows
from tests.hubtools import WAIT_SECONDS, sink_process, wait_healthy

pytestmark = pytest.mark.slow

CASE = "ad4f0c2a-0000-4000-8000-000000000001"
OTHER = "ad4f0c2a-0000-4000-8000-000000000002"


def publish(broker: EmbeddedBroker, rows: list[dict[str, Any]]) -> None:
    """Audit entries on ``kawal.case.audit``, as the pipeline writes them."""
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap_servers], acks="all")
    try:
        for row in rows:
            entry = row | {"disclosures": json.loads(row["disclosures"])}
            value = CODEC.encode("kawal.AuditEntry", entry)
            producer.send(CASE_AUDIT, key=row["case_id"].encode(), value=value)
        producer.flush(timeout=30)
    finally:
        producer.close()


def keep_until(consumer: KafkaConsumer, keeper: HeadKeeper, size: int, sink: ChildProcess) -> None:
    """Keep the heads on ``kawal.heads`` until one of ``size`` entries is kept."""
    deadline = time.monotonic() + WAIT_SECONDS
    while keeper.last is None or keeper.last.tree_size < size:
        assert time.monotonic() < deadline, f"no head of size {size}\n{sink.log_tail(30)}"
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                assert keeper.keep(CODEC.decode(record.value).record) is None


def test_the_sink_publishes_heads_that_expose_a_later_rewrite(
    own_broker: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    ensure_local_keys(settings)
    monkeypatch.setenv("KAWAL_TREE_HEAD_SECONDS", "0.5")
    port = free_port()
    sink = sink_process(home, own_broker.url, port)
    sink.start()
    consumer = KafkaConsumer(bootstrap_servers=[own_broker.bootstrap_servers])
    heads_partition = TopicPartition(HEADS, 0)
    consumer.assign([heads_partition])
    consumer.seek_to_beginning(heads_partition)
    registry = load_key_registry(settings.key_registry_file)
    keeper = HeadKeeper(tmp_path / "institution" / "heads.jsonl", registry)
    ring = keyring_of(settings)  # the sink stores only what its hub's key signed
    try:
        wait_healthy(f"http://127.0.0.1:{port}", sink)
        publish(own_broker, signed_rows(ring, CASE, 3))
        keep_until(consumer, keeper, 3, sink)
        publish(own_broker, signed_rows(ring, OTHER, 2) + signed_rows(ring, CASE, 1, start=4))
        keep_until(consumer, keeper, 6, sink)
    finally:
        consumer.close()
        sink.stop(20)
    store = AuditStore(settings.audit_url)
    try:
        lines = keeper.path.read_text(encoding="utf-8").splitlines()
        report = verify_heads(store, lines, registry)
        assert report.ok, report.findings
        assert report.tree_size == 6
        rewrite_case(store, ring, CASE, 1)
        found = verify_heads(store, lines, registry)
        assert {finding.code for finding in found.findings} == {HeadFinding.NOT_IN_STORE}
        assert len(found.findings) == len(lines)
    finally:
        store.close()
