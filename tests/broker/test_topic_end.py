"""Reading a topic to its end gives up, saying why, when the broker stops answering."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaTimeoutError

from streams.broker.endpoint import kafka_client
from streams.broker.topic_end import read_to_end, records_to_end
from streams.local.embedded import EmbeddedBroker
from streams.topics import DLQ
from tests.freezing import frozen as frozen_process

STALL_SECONDS = 1.0


@contextmanager
def frozen(broker: EmbeddedBroker) -> Iterator[None]:
    """The broker stopped (SIGSTOP): it answers nothing, as when overloaded or its disk full."""
    assert broker.pid is not None
    with frozen_process(broker.pid):
        yield


def test_a_topic_is_read_to_its_end(own_broker: EmbeddedBroker) -> None:
    producer = KafkaProducer(bootstrap_servers=[own_broker.bootstrap_servers])
    for number in range(30):
        producer.send(DLQ, key=str(number).encode(), value=b"letter")
    producer.flush()
    producer.close()

    records = read_to_end([own_broker.bootstrap_servers], [DLQ], STALL_SECONDS)

    assert sorted(int(record.key) for record in records) == list(range(30))


def test_a_broker_that_stops_answering_ends_the_read_with_what_to_do(
    own_broker: EmbeddedBroker,
) -> None:
    consumer = kafka_client(KafkaConsumer, [own_broker.bootstrap_servers], None)
    try:
        partitions = [TopicPartition(DLQ, p) for p in sorted(consumer.partitions_for_topic(DLQ))]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        started = time.monotonic()
        with frozen(own_broker), pytest.raises(KafkaTimeoutError) as gave_up:
            records_to_end(consumer, partitions, STALL_SECONDS)
        took = time.monotonic() - started
    finally:
        consumer.close()

    # Not before the stall it was given (a loaded machine only makes it later).
    assert took >= STALL_SECONDS
    said = str(gave_up.value)
    assert f"no record of {DLQ} for 1 s before its end" in said
    assert "KAWAL_BROKER_WAIT_SECONDS" in said
