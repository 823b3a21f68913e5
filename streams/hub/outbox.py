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
Kafka's default partitioner would choose (murmur2 of the key), computed once per key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Protocol, cast

from aiokafka.partitioner import murmur2
from faust.types import RecordMetadata

from streams.broker.transport import Headers, Record

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


class Outbox:
    """Records to produce, grouped by topic partition until :meth:`flush`."""

    def __init__(self, producer: RecordProducer, partitions: int) -> None:
        """Send through ``producer`` to topics of ``partitions`` partitions each."""
        self._producer = producer
        self._partitions = partitions
        self._records: dict[tuple[str, int], list[Record]] = {}
        self._partition_of: dict[bytes, int] = {}

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
            partition = self.partition_for(key) if key is not None else 0
        self._records.setdefault((topic, partition), []).append((key, value, headers))

    def extend(self, records: Iterable[Keyed]) -> None:
        """Queue records, each for the partition of its key (0 without one).

        :meth:`add` for many records at once: the pipeline queues several per event.
        """
        groups = self._records
        partition_of = self._partition_of
        for topic, key, value, headers in records:
            partition: int | None = 0 if key is None else partition_of.get(key)
            if partition is None:
                partition = self.partition_for(cast(bytes, key))
            group = groups.get((topic, partition))
            if group is None:
                group = groups[topic, partition] = []
            group.append((key, value, headers))

    def partition_for(self, key: bytes) -> int:
        """The partition Kafka's default partitioner gives ``key``."""
        partition = self._partition_of.get(key)
        if partition is None:
            partition = (murmur2(key) & 0x7FFFFFFF) % self._partitions
            self._partition_of[key] = partition
        return partition

    async def send(self) -> Sent:
        """Hand every queued record to the producer, without waiting for the broker.

        Returns:
            A future per record batch: :func:`confirm` them before relying on the records.
        """
        records, self._records = self._records, {}
        sent: Sent = []
        for (topic, partition), group in records.items():
            sent += await self._producer.send_records(topic, partition, group)
        return sent

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
