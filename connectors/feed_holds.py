"""Feed partitions an outbound connector holds at an entry its system did not take.

A delivery that still fails transiently after its retries (the system is down, times out,
answers 5xx) is never skipped: as Kafka Connect's sinks do, the runner
(:mod:`connectors.outbound_runner`) holds the entry's partition at it. The consumer is sought
back to the entry and the partition paused, so that neither the entry nor any later entry of
the partition is read or committed meanwhile, while the consumer goes on polling the other
partitions (the hub's heads): it keeps its place in its group (``max_poll_interval_ms``) and
a broker outage meanwhile meets the runner's usual patience. Once the wait is over, the
partition is resumed and the same entry delivered again, pass after pass, each wait longer up
to the retry policy's ``max_seconds`` (:meth:`connectors.retry.RetryPolicy.hold_seconds`),
until the system takes it. One case's entries therefore reach the system in their order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from connectors.retry import RetryPolicy


@dataclass
class Hold:
    """Where a partition is held, and until when.

    Attributes:
        partition: The feed's partition held.
        offset: The offset of the entry not delivered: neither it nor any after it is read.
        event_id: The entry's event id (None when it has none), for the log.
        passes: Passes in a row that gave up on the entry.
        wait: Seconds from the last of them until the entry is tried again.
        until: Monotonic time (s) at which the entry is tried again.
    """

    partition: TopicPartition
    offset: int
    event_id: str | None
    passes: int
    wait: float
    until: float

    @property
    def position(self) -> str:
        """``partition:offset``, as ``kawal dlq list`` and ``--redeliver-from`` write it."""
        return f"{self.partition.partition}:{self.offset}"


class FeedHolds:
    """The partitions of a consumer held at an entry, each tried again after its wait."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        policy: RetryPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer = consumer
        self.policy = policy
        self.clock = clock
        self._held: dict[TopicPartition, Hold] = {}

    def __bool__(self) -> bool:
        """Whether any partition is held."""
        return bool(self._held)

    def hold(self, partition: TopicPartition, offset: int, event_id: str | None) -> Hold:
        """Hold ``partition`` at ``offset``: seek back there and pause it until its wait is over.

        A hold at the same entry counts one more pass; at another entry it starts anew.
        """
        before = self._held.get(partition)
        passes = before.passes + 1 if before is not None and before.offset == offset else 1
        wait = self.policy.hold_seconds(passes)
        held = Hold(partition, offset, event_id, passes, wait, self.clock() + wait)
        self._held[partition] = held
        self.consumer.seek(partition, offset)
        self.consumer.pause(partition)
        return held

    def settled(self, partition: TopicPartition, offset: int) -> Hold | None:
        """The entry at ``offset`` was settled: the hold it ends, if any.

        An entry before the held one (read again after a rebalance) ends none.
        """
        held = self._held.get(partition)
        if held is None or offset < held.offset:
            return None
        return self._held.pop(partition)

    def resume_due(self) -> None:
        """Resume the partitions whose wait is over; keep the others paused.

        A partition the group gave another member is no longer held here: that member starts
        at the committed offset, the held entry. One the group handed back (a rebalance
        forgets pauses) is paused again until its wait is over.
        """
        assigned = self.consumer.assignment()
        now = self.clock()
        for partition, held in list(self._held.items()):
            if partition not in assigned:
                del self._held[partition]
            elif now >= held.until:
                self.consumer.resume(partition)
            else:
                self.consumer.pause(partition)

    def poll_ms(self, timeout_ms: int) -> int:
        """A poll's wait: ``timeout_ms``, or less when a held entry is due sooner."""
        now = self.clock()
        waits = [held.until - now for held in self._held.values() if held.until > now]
        if not waits:
            return timeout_ms
        return max(1, min(timeout_ms, math.ceil(min(waits) * 1000)))
