"""The outbox sends a key's records to the partition every Kafka client would choose."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable

import pytest
from faust.types import RecordMetadata
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from streams.broker.transport import Record
from streams.hub.outbox import Outbox, PartitionCounts

#: murmur2 of these keys in the Java client's own tests (``UtilsTest.testMurmur2``).
JAVA_MURMUR2 = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@pytest.mark.parametrize("partitions", [1, 4, 12])
def test_a_keys_partition_is_the_java_clients(partitions: int) -> None:
    # Institutions' clients and Faust's producer place a case's records with the Java client's
    # partitioner; the outbox must agree, or one case would span partitions.
    outbox = Outbox(_NeverSends(), PartitionCounts(partitions))

    for key, java_hash in JAVA_MURMUR2.items():
        assert outbox.partition_for(key) == (java_hash & 0x7FFFFFFF) % partitions


def test_case_keys_go_where_kafka_python_puts_them() -> None:
    outbox = Outbox(_NeverSends(), PartitionCounts(4))

    for number in range(1000):
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"case/{number}")).encode()
        assert outbox.partition_for(key) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % 4


class _NeverSends:
    """The outbox's producer, for tests that only compute partitions."""

    async def send_records(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        raise AssertionError("these tests send nothing")

    async def partition_count(self, topic: str) -> int:
        raise AssertionError("these tests send nothing")


def test_extended_records_keep_their_order_within_each_partition() -> None:
    producer = _Keeps()
    outbox = Outbox(producer, PartitionCounts(4))
    keys = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"case/{n}")).encode() for n in range(20)]
    records = [("kawal.case.audit", key, f"{n}".encode(), None) for n, key in enumerate(keys)]

    outbox.extend([*records, ("kawal.dlq", None, b"unkeyed", None)])
    asyncio.run(outbox.flush())

    assert producer.sent[("kawal.dlq", 0)] == [(None, b"unkeyed", None)]
    for (topic, partition), group in producer.sent.items():
        if topic == "kawal.case.audit":
            assert all(outbox.partition_for(key or b"") == partition for key, _, _ in group)
            assert [int(value) for _, value, _ in group] == sorted(int(v) for _, v, _ in group)
    assert sum(len(group) for group in producer.sent.values()) == len(records) + 1


def test_a_feed_is_written_with_the_partition_count_the_broker_gave_it() -> None:
    # New feeds have one partition; a feed made when feeds had four keeps them, and a case's
    # records stay in one of them.
    producer = _Keeps(feeds={"kawal.outbound.bkn": 1, "kawal.outbound.ppk.3374": 4})
    counts = PartitionCounts(8)
    keys = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"case/{n}")).encode() for n in range(40)]
    records = [
        (topic, key, f"{n}".encode(), None)
        for n, key in enumerate(keys)
        for topic in ("kawal.outbound.bkn", "kawal.outbound.ppk.3374", "kawal.case.audit")
    ]

    for half in (records[:60], records[60:]):
        outbox = Outbox(producer, counts)
        outbox.extend(half)
        asyncio.run(outbox.flush())

    assert {p for t, p in producer.sent if t == "kawal.outbound.bkn"} == {0}
    legacy = {(k, p) for (t, p), g in producer.sent.items() for k, _, _ in g if "ppk" in t}
    assert legacy == {(k, (kafka_python_murmur2(k) & 0x7FFFFFFF) % 4) for k in keys}
    audit = {(k, p) for (t, p), g in producer.sent.items() for k, _, _ in g if "audit" in t}
    assert audit == {(k, (kafka_python_murmur2(k) & 0x7FFFFFFF) % 8) for k in keys}
    assert [int(v) for _, v, _ in producer.sent["kawal.outbound.bkn", 0]] == list(range(40))
    # Asked once each, then known to every outbox of the process.
    assert producer.asked == ["kawal.outbound.bkn", "kawal.outbound.ppk.3374"]


class _Keeps:
    """The outbox's producer, keeping what it is given per topic partition."""

    def __init__(self, feeds: dict[str, int] | None = None) -> None:
        self.sent: dict[tuple[str, int], list[Record]] = {}
        self.feeds = feeds or {}
        self.asked: list[str] = []

    async def send_records(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        self.sent.setdefault((topic, partition), []).extend(records)
        return []

    async def partition_count(self, topic: str) -> int:
        self.asked.append(topic)
        return self.feeds[topic]
