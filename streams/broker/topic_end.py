"""Reading a topic to its end, the same way on Kafka and on tansu.

The end is the high watermark each partition's last Fetch response carried: right on both
brokers (ListOffsets is not, on tansu; see :mod:`streams.broker.tansu`).
"""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition


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
