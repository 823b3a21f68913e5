"""The outbox sends a key's records to the partition every Kafka client would choose."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable

import pytest
from faust.types import RecordMetadata
from kafka.partitioner.default import murmur2 as kafka_python_murmur2

from streams.broker.transport import Record
from streams.hub.outbox import Outbox

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
    outbox = Outbox(_NeverSends(), partitions)

    for key, java_hash in JAVA_MURMUR2.items():
        assert outbox.partition_for(key) == (java_hash & 0x7FFFFFFF) % partitions


def test_case_keys_go_where_kafka_python_puts_them() -> None:
    outbox = Outbox(_NeverSends(), 4)

    for number in range(1000):
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"case/{number}")).encode()
        assert outbox.partition_for(key) == (kafka_python_murmur2(key) & 0x7FFFFFFF) % 4


class _NeverSends:
    """The outbox's producer, for tests that only compute partitions."""

    async def send_records(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        raise AssertionError("these tests send nothing")


def test_extended_records_keep_their_order_within_each_partition() -> None:
    producer = _Keeps()
    outbox = Outbox(producer, 4)
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


class _Keeps:
    """The outbox's producer, keeping what it is given per topic partition."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, int], list[Record]] = {}

    async def send_records(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        self.sent.setdefault((topic, partition), []).extend(records)
        return []
