"""An outbound connector delivers its feed again from a position: how a dead letter is redone.

``kawal dlq replay`` sends only back to inbound topics, so an entry an outbound connector
dead-lettered (its system refused it as it was, or its token; an outage dead-letters nothing,
:mod:`connectors.feed_holds`) is not written to the feed again: the feed is the hub's to
write. Once the cause is fixed, the operator restarts the connector with ``--redeliver-from
PARTITION:OFFSET`` (the letter's source position, which ``kawal dlq list`` and ``kawal dlq
replay`` print); the connector seeks its own consumer there when the group assigns it the
partition and delivers from it (a partition the feed does not have is refused before the
connector starts: it would never be assigned). Entries after it that were already delivered
are delivered again, which changes nothing: delivery is idempotent on ``event_id`` and the
feed chains recognise an entry they have seen.
"""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from connectors.errors import ConnectorConfigError
from schemas.field_formats import is_number


def parse_positions(values: Iterable[str]) -> dict[int, int]:
    """``PARTITION:OFFSET`` values as a mapping; the lowest offset wins per partition.

    Raises:
        ConnectorConfigError: a value is not two non-negative integers joined by a colon.
    """
    positions: dict[int, int] = {}
    for value in values:
        partition, _, offset = value.partition(":")
        if not (is_number(partition) and is_number(offset)):
            raise ConnectorConfigError(
                f"--redeliver-from {value!r}: expected PARTITION:OFFSET, two non-negative "
                "integers: the end of a dead letter's source as `kawal dlq list` shows it "
                "(kawal.outbound.bkn:0:17 is 0:17)"
            )
        at = int(offset)
        positions[int(partition)] = min(at, positions.get(int(partition), at))
    return positions


class Redelivery(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks the feed's partitions to their redelivery offsets, once, when first assigned.

    Only the first assignment seeks: after a later rebalance the group's committed offsets,
    already past the redelivered entries, are where the connector resumes.
    """

    def __init__(self, topic: str, positions: dict[int, int]) -> None:
        self.topic = topic
        self.pending = dict(positions)
        #: Set once the consumer is built (it is given the listener when it subscribes).
        self.consumer: KafkaConsumer | None = None

    def check_partitions(self, held: set[int]) -> None:
        """Refuse a position on a partition the feed does not have.

        Such a position would wait for an assignment that never comes, and nothing would be
        delivered again, without a word.

        Args:
            held: The feed's partitions, as the broker tells them (none: no such topic).

        Raises:
            ConnectorConfigError: a position names a partition not in ``held``.
        """
        missing = sorted(set(self.pending) - held)
        if not missing:
            return
        given = ", ".join(f"{partition}:{self.pending[partition]}" for partition in missing)
        if held:
            plural = "s" if len(held) > 1 else ""
            has = f"has partition{plural} {', '.join(map(str, sorted(held)))} only"
        else:
            has = "is not on the broker (or this connector's credential may not describe it)"
        raise ConnectorConfigError(
            f"--redeliver-from {given}: the feed {self.topic} {has}; give the source of a "
            f"dead letter from {self.topic}, as `kawal dlq list --source-topic {self.topic}` "
            f"shows it ({self.topic}:0:17 is 0:17)"
        )

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        """Seek each assigned feed partition still pending to its offset."""
        for partition in assigned:
            if partition.topic != self.topic or partition.partition not in self.pending:
                continue
            if self.consumer is not None:
                self.consumer.seek(partition, self.pending.pop(partition.partition))

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        """Nothing to do: offsets are committed after each batch."""
