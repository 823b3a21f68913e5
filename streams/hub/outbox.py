"""The records one batch produces, sent together, and no offset committed before they are stored.

Each event the pipeline accepts produces several records. Faust's ``Topic.send`` costs
about 70 µs of Python per record here (futures, callbacks, sensors) and even the producer's
own ``send`` several; so the outbox collects a batch's records by topic and partition and
hands each group to the producer as whole record batches
(:meth:`streams.broker.transport.Producer.send_records`).

No offset is committed past a record the broker has not acknowledged, so a failed send holds
back the commit instead of losing the record: :meth:`Outbox.flush` waits for every record
before its caller acknowledges the input; a caller that acknowledges after :meth:`Outbox.send`
(the pipeline, which confirms a batch while it processes the next) relies on Faust flushing
the producer before every offset commit, and on :class:`streams.broker.transport.Producer` refusing
to flush past a failed send.

Records keep their order within a topic partition, and a key's records go to the partition
Kafka's default partitioner would choose (murmur2 of the key), computed once per key. Case
topics have the hub's case partition count; an outbound feed has the count the broker gave it
(one, or more for a feed created before feeds had one), asked once (:class:`PartitionCounts`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Protocol

from faust.types import RecordMetadata

from streams.broker.partitioner import partition_of
from streams.broker.transport import Headers, Record
from streams.topics import is_outbound

#: A record to add by its key's partition: topic, key, value and headers.
Keyed = tuple[str, bytes | None, bytes, Headers | None]
#: Records handed to the producer: a future per record batch, done once the broker has it.
Sent = list[Awaitable[RecordMetadata]]


class RecordProducer(Protocol):
    """What the outbox needs of a producer (:class:`streams.broker.transport.Producer`)."""

    async def send_records(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        """Send records to one partition; a future per batch."""
        ...

    async def partition_count(self, topic: str) -> int:
        """How many partitions ``topic`` has, as the broker says."""
        ...


class PartitionCounts:
    """How many partitions each topic the hub writes has, shared by a process's outboxes.

    Every case topic has the hub's case partition count. A feed keeps the count it was made
    with (:data:`streams.topics.FEED_PARTITIONS` or, made earlier, more), so the broker is asked
    the first time a feed is written to; nothing else is co-partitioned with a feed.
    """

    def __init__(self, case_partitions: int) -> None:
        """Case topics have ``case_partitions`` partitions."""
        self.case_partitions = case_partitions
        self._feeds: dict[str, int] = {}

    def known(self, topic: str) -> int | None:
        """The partition count of ``topic``, or None for a feed not asked about yet."""
        return self._feeds.get(topic) if is_outbound(topic) else self.case_partitions

    def learn(self, topic: str, count: int) -> None:
        """Keep the broker's partition count of the feed ``topic``."""
        self._feeds[topic] = count


class Outbox:
    """Records to produce, grouped by topic partition until :meth:`flush`."""

    def __init__(self, producer: RecordProducer, counts: PartitionCounts) -> None:
        """Send through ``producer`` to topics of the partition counts ``counts`` knows."""
        self._producer = producer
        self._counts = counts
        self._partitions = counts.case_partitions
        self._records: dict[tuple[str, int], list[Record]] = {}
        self._partition_of: dict[bytes, int] = {}
        #: Records for feeds whose partition count is not known yet, in order.
        self._unplaced: list[Keyed] = []

    def add(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        *,
        partition: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        """Queue one record, for ``partition`` or the partition of its key (0 without one)."""
        if partition is None:
            self.extend([(topic, key, value, headers)])
            return
        self._records.setdefault((topic, partition), []).append((key, value, headers))

    def extend(self, records: Iterable[Keyed]) -> None:
        """Queue records, each for the partition of its key (0 without one).

        :meth:`add` for many records at once: the pipeline queues several per event.
        """
        groups = self._records
        cached_partitions = self._partition_of
        known = self._counts.known
        for record in records:
            topic, key, value, headers = record
            count = known(topic)
            if count is None:
                self._unplaced.append(record)
                continue
            if key is None or count == 1:
                partition = 0
            elif count == self._partitions:
                cached = cached_partitions.get(key)
                partition = self.partition_for(key) if cached is None else cached
            else:  # a feed made with another count than the case topics'
                partition = partition_of(key, count)
            group = groups.get((topic, partition))
            if group is None:
                group = groups[topic, partition] = []
            group.append((key, value, headers))

    def partition_for(self, key: bytes) -> int:
        """The partition Kafka's default partitioner gives ``key`` on a case topic."""
        partition = self._partition_of.get(key)
        if partition is None:
            partition = partition_of(key, self._partitions)
            self._partition_of[key] = partition
        return partition

    async def send(self) -> Sent:
        """Hand every queued record to the producer, without waiting for the broker.

        Returns:
            A future per record batch: :func:`confirm` them before relying on the records.
        """
        if self._unplaced:
            await self._place_unplaced()
        records, self._records = self._records, {}
        sent: Sent = []
        for (topic, partition), group in records.items():
            sent += await self._producer.send_records(topic, partition, group)
        return sent

    async def _place_unplaced(self) -> None:
        # Every record of such a feed in this outbox is here, so their order is kept.
        unplaced, self._unplaced = self._unplaced, []
        for topic in dict.fromkeys(record[0] for record in unplaced):
            self._counts.learn(topic, await self._producer.partition_count(topic))
        self.extend(unplaced)

    async def flush(self) -> None:
        """Send every queued record and wait until the broker has acknowledged each.

        Raises:
            KafkaError: the broker refused a batch after the producer's retries; the records
                that produced these must not be acknowledged.
        """
        await confirm(await self.send())


async def confirm(sent: Sent) -> None:
    """Wait until the broker has acknowledged every batch of ``sent``.

    Raises:
        KafkaError: the broker refused a batch after the producer's retries.
    """
    for batch in sent:
        await batch
