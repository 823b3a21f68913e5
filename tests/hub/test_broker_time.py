"""Whose clock recorded_at is: the broker's stamp, or a timestamp the sender chose.

The finding this module exists for is pinned against the real embedded broker: tansu keeps the
producer's timestamp on a topic that asks for LogAppendTime.
"""

from __future__ import annotations

import logging

import faust
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from monitoring.metrics import HubMetrics
from streams.hub.broker_time import LOG_APPEND_TIME, SenderClocks
from streams.local.embedded import EmbeddedBroker

CREATE_TIME = 0
#: A producer timestamp no broker clock could give: 1970-01-01T00:00:01Z.
CHOSEN_MS = 1_000


def message(topic: str, timestamp_type: int) -> faust.types.Message:
    return faust.types.Message(
        topic=topic,
        partition=0,
        offset=0,
        timestamp=CHOSEN_MS / 1000,
        timestamp_type=timestamp_type,
        headers=[],
        key=b"k",
        value=b"v",
        checksum=None,
    )


def counted(metrics: HubMetrics) -> float:
    return metrics.registry.get_sample_value("kawal_inbound_sender_timestamps_total") or 0.0


def test_tansu_keeps_the_senders_timestamp_on_a_log_append_time_topic(
    broker: EmbeddedBroker,
) -> None:
    topic = "test.broker-time.log-append"
    servers = [broker.bootstrap_servers]
    admin = KafkaAdminClient(bootstrap_servers=servers)
    admin.create_topics(
        [NewTopic(topic, 1, 1, topic_configs={"message.timestamp.type": "LogAppendTime"})]
    )
    admin.close()
    producer = KafkaProducer(bootstrap_servers=servers)
    producer.send(topic, b"v", key=b"k", timestamp_ms=CHOSEN_MS).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        topic, bootstrap_servers=servers, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    records = list(consumer)
    consumer.close()

    assert [(r.timestamp, r.timestamp_type) for r in records] == [(CHOSEN_MS, CREATE_TIME)]


def test_on_the_embedded_broker_one_info_line_says_so_and_every_record_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = HubMetrics()
    clocks = SenderClocks(metrics, embedded=True)

    with caplog.at_level(logging.INFO, logger="streams.hub.broker_time"):
        clocks.check([message("kawal.inbound.bkn", CREATE_TIME)] * 3)
        clocks.check([message("kawal.inbound.bawaslu", CREATE_TIME)])

    assert counted(metrics) == 4
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "recorded_at is its sender's clock" in caplog.records[0].getMessage()


def test_on_kafka_each_topic_without_the_brokers_stamp_is_a_warning_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = HubMetrics()
    clocks = SenderClocks(metrics, embedded=False)

    with caplog.at_level(logging.INFO, logger="streams.hub.broker_time"):
        clocks.check([message("kawal.inbound.bkn", CREATE_TIME)] * 2)
        clocks.check([message("kawal.inbound.bawaslu", CREATE_TIME)])
        clocks.check([message("kawal.inbound.bkn", CREATE_TIME)])

    assert counted(metrics) == 4
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [line.split(":")[0] for line in warned] == ["kawal.inbound.bkn", "kawal.inbound.bawaslu"]
    assert "kawal topics apply" in warned[0]


def test_records_the_broker_stamped_are_neither_counted_nor_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = HubMetrics()
    clocks = SenderClocks(metrics, embedded=False)

    with caplog.at_level(logging.INFO, logger="streams.hub.broker_time"):
        clocks.check([message("kawal.inbound.bkn", LOG_APPEND_TIME)] * 5)

    assert counted(metrics) == 0
    assert caplog.records == []


def test_the_embedded_broker_is_told_from_kafka_by_its_url() -> None:
    metrics = HubMetrics()

    assert SenderClocks.for_broker(metrics, "tansu://127.0.0.1:9092").embedded
    assert not SenderClocks.for_broker(metrics, "kafka://kafka-1:9092;kafka-2:9092").embedded
