"""Reading a topic to its end, the same way on Kafka and on tansu.

The end is the high watermark each partition's last Fetch response carried: right on both
brokers (ListOffsets is not, on tansu; see :mod:`streams.broker.tansu`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaTimeoutError

from streams.broker.endpoint import kafka_client

#: How long one poll waits for records, in milliseconds.
POLL_MS = 200


def at_end(consumer: KafkaConsumer, partitions: list[TopicPartition]) -> bool:
    """Whether every partition's position reached the high watermark of its last Fetch."""
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or consumer.position(tp) < highwater:
            return False
    return True


def remaining(consumer: KafkaConsumer, partitions: list[TopicPartition]) -> int:
    """Records left before the known high watermarks (partitions not fetched yet count 0)."""
    left = 0
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is not None:
            left += max(0, highwater - consumer.position(tp))
    return left


def polls_to_end(
    consumer: KafkaConsumer,
    partitions: list[TopicPartition],
    stall_seconds: float,
    max_records: int | None = None,
) -> Iterator[dict[TopicPartition, list[ConsumerRecord]]]:
    """What each poll returns, until every partition of ``partitions`` is at its end.

    A broker that stops answering, or an end that no record reaches, would keep a reader
    waiting without end and without a word: it gives up once no record came for
    ``stall_seconds``.

    Raises:
        KafkaTimeoutError: no record arrived for ``stall_seconds`` before the end.
    """
    last_record = time.monotonic()
    while not at_end(consumer, partitions):
        polled = consumer.poll(timeout_ms=POLL_MS, max_records=max_records)
        if any(polled.values()):
            last_record = time.monotonic()
            yield polled
        elif time.monotonic() - last_record > stall_seconds:
            topics = ", ".join(sorted({tp.topic for tp in partitions}))
            raise KafkaTimeoutError(
                f"no record of {topics} for {stall_seconds:g} s before its end "
                f"({remaining(consumer, partitions)} known to be left); the broker may be "
                "overloaded or stopped: check it and try again, or raise "
                "KAWAL_BROKER_WAIT_SECONDS"
            )


def records_to_end(
    consumer: KafkaConsumer, partitions: list[TopicPartition], stall_seconds: float
) -> list[ConsumerRecord]:
    """Every record from the consumer's positions to the end of ``partitions``, in order.

    Raises:
        KafkaTimeoutError: no record arrived for ``stall_seconds`` before the end.
    """
    return [
        record
        for polled in polls_to_end(consumer, partitions, stall_seconds)
        for batch in polled.values()
        for record in batch
    ]


def read_to_end(
    bootstrap: list[str],
    topics: Iterable[str],
    seconds: float,
    security: Mapping[str, Any] | None = None,
) -> list[ConsumerRecord]:
    """Every record of ``topics``, from their start to their end (per partition in order).

    ``security`` holds the client's credential options (``BrokerCredentials.client_kwargs``).

    Raises:
        KafkaTimeoutError: no record arrived for ``seconds`` before the end.
    """
    consumer = kafka_client(
        KafkaConsumer, bootstrap, security, enable_auto_commit=False, fetch_max_wait_ms=5
    )
    try:
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return records_to_end(consumer, partitions, seconds)
    finally:
        consumer.close()
