"""How a held feed partition waits, is tried again, and lets go (no broker: a consumer's calls)."""

from __future__ import annotations

from kafka import TopicPartition

from connectors.feed_holds import FeedHolds
from connectors.retry import RetryPolicy

FEED = TopicPartition("kawal.outbound.bkn", 0)
HEADS = TopicPartition("kawal.heads", 0)
POLICY = RetryPolicy(attempts=3, initial_seconds=0.5, max_seconds=10.0)


class Consumer:
    """The calls of a KafkaConsumer a hold makes, kept."""

    def __init__(self) -> None:
        self.assigned = {FEED, HEADS}
        self.paused: set[TopicPartition] = set()
        self.sought: list[tuple[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.sought.append((partition, offset))

    def pause(self, partition: TopicPartition) -> None:
        self.paused.add(partition)

    def resume(self, partition: TopicPartition) -> None:
        self.paused.discard(partition)


class Clock:
    """Monotonic seconds the test moves on."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _holds() -> tuple[FeedHolds, Consumer, Clock]:
    consumer, clock = Consumer(), Clock()
    return FeedHolds(consumer, POLICY, clock), consumer, clock


def test_a_held_partition_is_sought_back_paused_and_resumed_once_its_wait_is_over() -> None:
    holds, consumer, clock = _holds()
    held = holds.hold(FEED, 17, "e-1")
    assert consumer.sought == [(FEED, 17)]
    assert consumer.paused == {FEED}
    assert (held.position, held.passes, held.wait) == ("0:17", 1, 2.0)  # 0.5, 1.0, then 2.0
    assert holds.poll_ms(500) == 500
    clock.now += 1.9
    holds.resume_due()
    assert consumer.paused == {FEED}
    assert holds.poll_ms(500) == 100  # the poll ends as the wait does
    clock.now += 0.1
    holds.resume_due()
    assert consumer.paused == set()
    assert holds


def test_each_pass_at_the_same_entry_waits_longer_up_to_max_seconds() -> None:
    holds, _, _ = _holds()
    waits = [holds.hold(FEED, 17, "e-1").wait for _ in range(5)]
    assert waits == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert holds.hold(FEED, 18, "e-2").wait == 2.0  # another entry starts anew
    assert POLICY.hold_seconds(10**9) == 10.0  # a hold of years overflows nothing


def test_only_the_held_entry_or_one_after_it_ends_the_hold() -> None:
    holds, _, _ = _holds()
    holds.hold(FEED, 17, "e-1")
    assert holds.settled(FEED, 16) is None  # read again after a rebalance: before the entry
    assert holds.settled(HEADS, 40) is None
    ended = holds.settled(FEED, 17)
    assert ended is not None
    assert ended.passes == 1
    assert not holds


def test_a_partition_handed_back_is_paused_again_and_one_taken_away_let_go() -> None:
    holds, consumer, _ = _holds()
    holds.hold(FEED, 17, "e-1")
    consumer.paused.clear()  # a rebalance that hands the partition back forgets its pause
    holds.resume_due()
    assert consumer.paused == {FEED}
    consumer.assigned = {HEADS}  # another member has it now, from the committed offset
    holds.resume_due()
    assert not holds
