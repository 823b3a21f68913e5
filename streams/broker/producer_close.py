"""Closing a kafka-python producer within a deadline, whatever the broker does.

Without a deadline kafka-python waits for ever for what is still queued: a broker gone (its
disk full, stopped, frozen) would hang the caller. Its close flushes first and raises before it
stops its sender, so what the broker never took is dropped and the close done again, leaving
no thread or socket behind.
"""

from __future__ import annotations

import contextlib

from kafka import KafkaProducer
from kafka.errors import IllegalStateError, KafkaError


def close_within(producer: KafkaProducer, seconds: float) -> bool:
    """Closes ``producer`` within about ``seconds``; False if it dropped records not taken."""
    try:
        producer.close(timeout=seconds)
    except KafkaError:
        _force_close(producer, seconds)
        return False
    return True


def _force_close(producer: KafkaProducer, seconds: float) -> None:
    """Drops what the broker has not taken and stops the sender, however the two race.

    A batch the sender re-queued or completed while it was being dropped here made the close
    raise again (seen once in CI, the broker frozen mid-replay). Forced to close, the sender
    fails what is left from its own thread, where nothing completes meanwhile; the producer's
    close then finds nothing to wait for.
    """
    _drop_queued(producer)
    producer._sender.force_close()
    # The sender closes its connections as it ends: wait, so none is left open.
    producer._sender.join(seconds)
    with contextlib.suppress(KafkaError):
        producer.close(timeout=0)


def _drop_queued(producer: KafkaProducer, attempts: int = 3) -> None:
    """Drops the batches the broker has not taken (no public way to, in kafka-python).

    The sender may complete a batch while it is being dropped (its answer came just then, as
    when a frozen broker woke up): kafka-python raises then, and the rest is dropped again.
    """
    for _ in range(attempts):
        try:
            producer._accumulator.abort_incomplete_batches()
        except IllegalStateError:
            continue
        return
