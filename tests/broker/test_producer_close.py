"""Dropping what a broker never took survives the sender completing a batch meanwhile.

kafka-python raises IllegalStateError when a batch being aborted was completed by its sender
thread in between (seen once when a frozen broker woke up during `kawal dlq replay`): the
close then escaped with a traceback instead of the replay's own refusal. The race cannot be
timed on a real broker, so the accumulator here raises it on its first pass.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
from kafka import KafkaProducer
from kafka.errors import IllegalStateError

from streams.broker import producer_close
from streams.broker.producer_close import _drop_queued, close_within
from streams.local.embedded import EmbeddedBroker
from streams.topics import DLQ
from tests.freezing import frozen


class RacingAccumulator:
    """Raises as kafka-python does on its first ``passes_raising`` passes, then drops."""

    def __init__(self, passes_raising: int) -> None:
        self.passes_raising = passes_raising
        self.passes = 0
        self.dropped = False

    def abort_incomplete_batches(self) -> None:
        self.passes += 1
        if self.passes <= self.passes_raising:
            raise IllegalStateError("Batch has already been completed in final state: 1")
        self.dropped = True


def producer_with(accumulator: RacingAccumulator) -> KafkaProducer:
    return cast(KafkaProducer, cast(Any, SimpleNamespace(_accumulator=accumulator)))


def test_a_batch_completed_while_dropping_is_passed_over_and_the_rest_dropped() -> None:
    racing = RacingAccumulator(passes_raising=1)

    _drop_queued(producer_with(racing))

    assert (racing.passes, racing.dropped) == (2, True)


def test_a_race_that_goes_on_gives_up_after_its_attempts_without_raising() -> None:
    racing = RacingAccumulator(passes_raising=10)

    _drop_queued(producer_with(racing), attempts=3)

    assert (racing.passes, racing.dropped) == (3, False)


def test_a_batch_the_drop_left_is_failed_by_the_sender_and_the_close_ends(
    own_broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the second close waited on the batch left and raised KafkaTimeoutError (CI)."""
    producer = KafkaProducer(bootstrap_servers=[own_broker.bootstrap_servers], acks="all")
    producer.send(DLQ, b"taken").get(timeout=30)  # connected, the partition's leader known
    assert own_broker.pid is not None
    with frozen(own_broker.pid):
        left = producer.send(DLQ, b"never taken")
        # As when the sender re-queued or completed a batch while it was being dropped.
        monkeypatch.setattr(producer_close, "_drop_queued", lambda producer: None)
        started = time.monotonic()
        closed = close_within(producer, 1.0)
        took = time.monotonic() - started

    assert closed is False
    assert left.is_done
    assert left.failed()
    assert not producer._sender.is_alive()
    assert took < 10
