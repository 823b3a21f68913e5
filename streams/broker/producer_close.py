"""Closing a kafka-python producer within a deadline, whatever the broker does.

Without a deadline kafka-python waits for ever for what is still queued: a broker gone (its
disk full, stopped, frozen) would hang the caller. Its close flushes first and raises before it
stops its sender, so what the broker never took is dropped and the close done again, leaving
no thread or socket behind.
"""

from __future__ import annotations

from kafka import KafkaProducer
from kafka.errors import KafkaError


def close_within(producer: KafkaProducer, seconds: float) -> bool:
    """Closes ``producer`` within about ``seconds``; False if it dropped records not taken."""
    try:
        producer.close(timeout=seconds)
    except KafkaError:
        producer._accumulator.abort_incomplete_batches()  # no public way to drop them
        producer.close(timeout=0)
        # The sender closes its connections as it ends: wait, so none is left open.
        producer._sender.join(seconds)
        return False
    return True
