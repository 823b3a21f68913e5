"""Dropping what a broker never took survives the sender completing a batch meanwhile.

kafka-python raises IllegalStateError when a batch being aborted was completed by its sender
thread in between (seen once when a frozen broker woke up during `kawal dlq replay`): the
close then escaped with a traceback instead of the replay's own refusal. The race cannot be
timed on a real broker, so the accumulator here raises it on its first pass.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from kafka import KafkaProducer
from kafka.errors import IllegalStateError

from streams.broker.producer_close import _drop_queued


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
