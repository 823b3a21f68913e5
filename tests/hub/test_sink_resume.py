"""The audit sink resumes from the store's own positions, not from the group's commits.

A store restored from a backup, or a new empty one, would otherwise miss every entry the
group had already committed past: a silent gap in the trail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition

from streams.audit.store import AuditStore
from streams.broker.publisher import EventPublisher
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess, free_port
from streams.settings import Settings
from streams.topics import CASE_AUDIT, SINK_APP_ID
from tests.hubtools import (
    default_codec,
    report,
    sink_process,
    until_referral,
    wait_healthy,
    wait_stored,
    worker_process,
)

pytestmark = pytest.mark.slow


def _started_sink(home: Path, broker: EmbeddedBroker) -> ChildProcess:
    port = free_port()
    sink = sink_process(home, broker.url, port)
    sink.start()
    wait_healthy(f"http://127.0.0.1:{port}", sink)
    return sink


def _committed(broker: EmbeddedBroker) -> dict[tuple[str, int], int]:
    # Reads the group's commits (OffsetFetch) without joining the group.
    consumer = KafkaConsumer(
        bootstrap_servers=[broker.bootstrap_servers],
        group_id=SINK_APP_ID,
        enable_auto_commit=False,
    )
    try:
        partitions = sorted(consumer.partitions_for_topic(CASE_AUDIT) or ())
        committed = {p: consumer.committed(TopicPartition(CASE_AUDIT, p)) for p in partitions}
    finally:
        consumer.close()
    return {(CASE_AUDIT, p): offset for p, offset in committed.items() if offset}


def test_a_new_store_is_filled_from_the_start_although_the_group_committed_past_it(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    first_home, second_home = tmp_path / "first", tmp_path / "second"
    worker_port = free_port()
    ensure_local_keys(Settings(home=first_home))
    worker = worker_process(first_home, own_broker.url, worker_port)
    worker.start()
    keyring = keyring_of(Settings(home=first_home))
    publisher = EventPublisher([own_broker.bootstrap_servers], default_codec(), keyring)
    sink = _started_sink(first_home, own_broker)
    first = AuditStore(Settings(home=first_home).audit_url)
    try:
        wait_healthy(f"http://127.0.0.1:{worker_port}", worker)
        opened = report()
        case_id = opened["envelope"]["case_id"]
        for event_type, record in [("ReportReceived", opened), *until_referral(case_id)]:
            publisher.publish(event_type, record)
        publisher.flush()
        wait_stored(first, 4, sink)
        positions = first.consumed_offsets()
        assert sum(positions.values()) == 4
        sink.stop()
        # The group has committed past every entry: a sink resuming from its commits would
        # give the new store nothing.
        assert _committed(own_broker) == positions

        # The same hub on a new store: its keys come along, as they would on a restore.
        shutil.copytree(first_home / "keys", second_home / "keys")
        sink = _started_sink(second_home, own_broker)
        second = AuditStore(Settings(home=second_home).audit_url)
        wait_stored(second, 4, sink)
        assert [row.hash for row in second.trail(case_id)] == [
            row.hash for row in first.trail(case_id)
        ]
        assert second.consumed_offsets() == positions
        second.close()
    finally:
        first.close()
        publisher.close()
        sink.stop()
        worker.stop()
