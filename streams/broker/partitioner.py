"""The partition Kafka's default partitioner gives a record's key.

murmur2 of the key, as the Java client, kafka-python and aiokafka compute it (librdkafka's
clients do so only with ``partitioner=murmur2_random``). Every record of a case goes to the
one partition of its key, on every case-keyed topic.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_of(key: bytes, partitions: int) -> int:
    """The partition of ``key`` among ``partitions``."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions
