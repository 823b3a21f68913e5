"""Consumer lag read from a real broker, tansu's end offsets corrected through Fetch."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from prometheus_client import CollectorRegistry, generate_latest

from monitoring.lag import LagCollector
from streams.broker import lag as lag_module
from streams.broker.endpoint import parse_broker_url
from streams.broker.lag import LagReader, hub_group, lag_of, read_lag
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port

WAIT_SECONDS = 60.0
#: Lag readings a test takes to tell a warning of every reading from one of a loaded moment.
READINGS = 3


def test_lag_sums_partitions_and_never_goes_negative() -> None:
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    committed = {"kawal": {a0: 3, a1: 10, b0: 0}}
    ends = {a0: 8, a1: 9}  # a1 read before the commit moved on; b0 unknown
    assert lag_of(committed, ends) == {("kawal", "a"): 5, ("kawal", "b"): 0}


def test_only_the_hubs_groups_are_watched() -> None:
    assert hub_group("kawal")
    assert hub_group("kawal-audit-sink")
    assert hub_group("kawal-connector:bkn:siasn")
    assert not hub_group("console-consumer-4711")


def test_lag_of_a_connector_group_on_tansu_counts_every_record(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    topic = f"lag-{uuid.uuid4().hex[:8]}"
    group = f"kawal-connector:test:{topic}"
    bootstrap = [broker.bootstrap_servers]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    # Ten records in one batch per partition: tansu's ListOffsets would say 1 for each.
    for i in range(20):
        producer.send(topic, value=b"x", partition=i % 2)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    p0 = TopicPartition(topic, 0)
    consumer.assign([p0, TopicPartition(topic, 1)])
    consumer.seek(p0, 4)
    consumer.seek(TopicPartition(topic, 1), 0)
    consumer.commit()
    consumer.close()
    said: list[set[str]] = []
    for _ in range(READINGS):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            lag = read_lag(parse_broker_url(broker.url))
        assert lag[group, topic] == 16
        said.append({r.getMessage() for r in caplog.records if said_every_time(r)})
    # The worker reads lag every 15 s (KAWAL_LAG_CHECK_SECONDS): a warning each time is noise.
    # One now and then (a client's close that cancelled a metadata request on a loaded
    # machine, from this reading or a client of an earlier test) is not each time.
    assert set.intersection(*said) == set(), f"said at every reading: {said}"


def said_every_time(record: logging.LogRecord) -> bool:
    """Whether a record is a warning a lag reading would give on any machine.

    kafka-python's selector warns when one of its tasks held the loop over 0.1 s: that says the
    machine was loaded at the time (it was, once, in CI), not that every reading warns.
    """
    slow_task = (
        record.name == "kafka.net.selector" and "blocking the event loop" in record.getMessage()
    )
    return record.levelno >= logging.WARNING and not slow_task


def test_an_error_of_the_client_library_is_counted_and_the_worker_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A lag reading runs on the worker's timer: kafka-python raised a KeyError from
    # end_offsets once, which stopped the worker.
    def fails(*_args: object, **_kwargs: object) -> lag_module.Lag:
        raise KeyError("kawal.case.audit")

    monkeypatch.setattr(lag_module, "read_lag", fails)
    reader = LagReader(parse_broker_url("kafka://127.0.0.1:9"))
    reader.lag, reader.read_at = {("kawal", "kawal.dlq"): 3}, 1.0

    reader.refresh()

    assert reader.snapshot() == ({("kawal", "kawal.dlq"): 3}, 1.0, 1)


def test_an_unreachable_broker_is_counted_and_the_last_reading_kept() -> None:
    # In a child process: kafka-python leaves the refused socket to the garbage collector.
    script = f"""
from monitoring.lag import LagCollector
from prometheus_client import CollectorRegistry, generate_latest
from streams.broker.endpoint import parse_broker_url
from streams.broker.lag import LagReader
reader = LagReader(parse_broker_url("tansu://127.0.0.1:{free_port()}"), timeout=2)
reader.lag, reader.read_at = {{("kawal", "kawal.dlq"): 3}}, 1.0
reader.refresh()
print(reader.snapshot())
registry = CollectorRegistry()
registry.register(LagCollector(reader.snapshot))
print(generate_latest(registry).decode())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=WAIT_SECONDS * 2
    )
    assert done.returncode == 0, done.stderr
    assert "({('kawal', 'kawal.dlq'): 3}, 1.0, 1)" in done.stdout
    assert 'kawal_consumer_lag_records{group="kawal",topic="kawal.dlq"} 3.0' in done.stdout
    assert "kawal_consumer_lag_read_failures_total 1.0" in done.stdout
    assert "consumer lag could not be read (KafkaTimeoutError)" in done.stderr


def test_a_reading_before_the_first_is_empty_not_zero() -> None:
    reader = LagReader(parse_broker_url("kafka://127.0.0.1:9"))
    registry = CollectorRegistry()
    registry.register(LagCollector(reader.snapshot))
    started = time.monotonic()
    text = generate_latest(registry).decode()
    assert time.monotonic() - started < WAIT_SECONDS
    assert "kawal_consumer_lag_records{" not in text
    assert "kawal_consumer_lag_read_timestamp_seconds 0.0" in text
