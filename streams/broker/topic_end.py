"""Reading a topic to its end, the same way on Kafka and on tansu.

The end is the high watermark each partition's last Fetch response carried: right on both
brokers (ListOffsets is not, on tansu; see :mod:`streams.broker.tansu`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from streams.broker.endpoint import kafka_client


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


def records_to_end(
    consumer: KafkaConsumer, partitions: list[TopicPartition], seconds: float
) -> list[ConsumerRecord]:
    """Every record from the consumer's positions to the end of ``partitions``, in order.

    Raises:
        TimeoutError: the end was not reached within ``seconds``.
    """
    found: list[ConsumerRecord] = []
    deadline = time.monotonic() + seconds
    while not at_end(consumer, partitions):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{remaining(consumer, partitions)} records not read in {seconds} s")
        for batch in consumer.poll(timeout_ms=200).values():
            found += batch
    return found


def read_to_end(
    bootstrap: list[str],
    topics: Iterable[str],
    seconds: float,
    security: Mapping[str, Any] | None = None,
) -> list[ConsumerRecord]:
    """Every record of ``topics``, from their start to their end (per partition in order).

    ``security`` holds the client's credential options (``BrokerCredentials.client_kwargs``).

    Raises:
        TimeoutError: the end was not reached within ``seconds``.
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
