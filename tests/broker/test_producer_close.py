"""Closing a producer whose broker froze gives up within its deadline, whatever the sender does.

kafka-python's sender thread keeps running while the close aborts what is still queued: a
batch it completes in between (expired, or answered at last) is listed but already final, and
aborting it raises ``IllegalStateError``. That error must not replace the close's own answer.
"""

from __future__ import annotations

import os
import signal
import threading

from kafka import KafkaProducer
from kafka.errors import KafkaTimeoutError

from streams.broker.producer_close import close_within
from streams.local.embedded import EmbeddedBroker
from streams.topics import inbound_topic

CLOSE_SECONDS = 2.0
#: When the stand-in for the sender forgets the batch it completed: after the close's flush gave
#: up (``CLOSE_SECONDS``) and the abort began, well before the abort's own deadline.
FORGET_AFTER_SECONDS = CLOSE_SECONDS + 1.0


def test_a_batch_the_sender_completes_during_the_abort_does_not_stop_the_close(
    own_broker: EmbeddedBroker,
) -> None:
    topic = inbound_topic("bawaslu")
    producer = KafkaProducer(bootstrap_servers=own_broker.bootstrap_servers, linger_ms=0)
    producer.send(topic, b"taken", partition=0).get(timeout=30)
    assert own_broker.pid is not None
    os.kill(own_broker.pid, signal.SIGSTOP)
    try:
        waiting = producer.send(topic, b"never taken", partition=0)
        completed = producer.send(topic, b"completed by the sender", partition=1)
        # The sender's own two steps on a batch it completes: done, then forgotten a moment later.
        accumulator = producer._accumulator
        batch = next(b for b in accumulator._incomplete.all() if b.topic_partition.partition == 1)
        expired = KafkaTimeoutError("expired in flight")
        batch.complete_exceptionally(expired, lambda _index: expired)
        forget = threading.Timer(FORGET_AFTER_SECONDS, accumulator.deallocate, [batch])
        forget.start()
        closed = close_within(producer, CLOSE_SECONDS)
        forget.join()
    finally:
        os.kill(own_broker.pid, signal.SIGCONT)

    assert closed is False
    assert waiting.is_done
    assert waiting.failed()
    assert completed.is_done
    assert isinstance(completed.exception, KafkaTimeoutError)
    assert not producer._sender.is_alive()
