"""Closing a kafka-python producer within a deadline, whatever the broker does.

Without a deadline kafka-python waits for ever for what is still queued: a broker gone (its
disk full, stopped, frozen) would hang the caller. Its close flushes first and raises before it
stops its sender, so what the broker never took is dropped and the close done again, leaving
no thread or socket behind.
"""

from __future__ import annotations

import time

from kafka import KafkaProducer
from kafka.errors import IllegalStateError, KafkaError

#: Pause before aborting again a batch list the sender was still completing.
ABORT_RETRY_SECONDS = 0.01


def close_within(producer: KafkaProducer, seconds: float) -> bool:
    """Closes ``producer`` within about ``seconds``; False if it dropped records not taken."""
    try:
        producer.close(timeout=seconds)
    except KafkaError:
        _abort_queued(producer, seconds)
        producer.close(timeout=0)
        # The sender closes its connections as it ends: wait, so none is left open.
        producer._sender.join(seconds)
        return False
    return True


def _abort_queued(producer: KafkaProducer, seconds: float) -> None:
    """Fails every batch still queued or in flight (there is no public way to drop them).

    The sender thread still runs: a batch it completes (expired, or answered at last) between
    the accumulator listing it and aborting it makes kafka-python raise. The sender forgets
    such a batch right after completing it, so the abort is tried again until it goes through.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            producer._accumulator.abort_incomplete_batches()
            return
        except IllegalStateError:
            if time.monotonic() > deadline:
                raise
            time.sleep(ABORT_RETRY_SECONDS)
