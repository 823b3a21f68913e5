"""Where the worker keeps its case tables: RocksDB on disk (the default) or memory.

Ten years of cases do not fit in a worker's RAM, so the case table and the accepted-event
index (:mod:`streams.hub.case_table`) live in Faust's RocksDB store (rocksdict), one database
per table and partition under the worker's data directory; RAM holds only RocksDB's small
write buffers and block cache. ``KAWAL_CASE_STORE=memory`` keeps the tables in dicts, as
tests of a few cases may.

The pipeline writes a batch's values itself (:mod:`streams.hub.case_table`), each to the
partition of the event that changed its case. Faust's RocksDB store would put every write of
a batch in the partition of the batch's current event, and read only from that partition, so
the batch reads and writes the partition databases directly here: a read asks each database
(a bloom filter each) unless the store's key index knows the partition.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import faust
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP

from streams.topics import ACCEPTED_TABLE, CASE_TABLE


class CaseStoreKind(StrEnum):
    """``KAWAL_CASE_STORE``: where the case table and the accepted-event index live."""

    ROCKSDB = "rocksdb"
    MEMORY = "memory"


#: RocksDB sizes per partition database: small buffers, as a value is a few kilobytes at most
#: and the load is small; Faust's defaults (64 MiB write buffers, a 2 GiB block cache) fit a
#: big server.
ROCKSDB_OPTIONS: dict[str, Any] = {
    "driver": "rocksdict",
    "write_buffer_size": 4 * 1024 * 1024,
    "max_write_buffer_number": 2,
    "target_file_size_base": 16 * 1024 * 1024,
    "block_cache_size": 8 * 1024 * 1024,
    "max_open_files": 256,
}


def store_url(kind: CaseStoreKind) -> str:
    """Faust's store URL for ``kind``."""
    return "rocksdb://" if kind is CaseStoreKind.ROCKSDB else "memory://"


def table_options(kind: CaseStoreKind) -> dict[str, Any] | None:
    """A case table's store options for ``kind`` (a fresh dict: Faust consumes it)."""
    return dict(ROCKSDB_OPTIONS) if kind is CaseStoreKind.ROCKSDB else None


def case_tables(app: faust.App, kind: CaseStoreKind) -> tuple[Any, Any]:
    """The case table and the accepted-event index of ``app``, stored as ``kind``."""
    # JSON values without a value_type: Faust's recovery cannot rebuild a plain dict type.
    # Faust serializes keys and values of this type as JSON (streams.hub.case_table).
    table = app.Table(CASE_TABLE, key_type=str, options=table_options(kind))
    return table, app.Table(ACCEPTED_TABLE, key_type=str, options=table_options(kind))


def iter_cases(table: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every case of ``table`` with its value, one at a time.

    A RocksDB table is read as the caller goes (an iterator sees the database as it was when it
    began), so a look at every case never holds them all in RAM. A memory table is listed
    first: the pipeline may add cases while the caller awaits.
    """
    if isinstance(getattr(table, "data", None), RocksDBStore):
        return iter(table.items())
    return iter(list(table.items()))


def case_page(
    table: Any, partition: int, after: bytes | None, limit: int
) -> list[tuple[bytes, dict[str, Any]]] | None:
    """Up to ``limit`` cases of ``table``'s RocksDB ``partition`` whose keys follow ``after``.

    Each page opens its own iterator and drops it before returning, so a reader that awaits
    between pages holds no iterator while a rebalance opens or drops a partition's database.

    Returns:
        ``(key, value)`` in key order, keys as stored; None once this worker no longer holds
        ``partition`` as an active partition.
    """
    store: RocksDBStore = table.data
    db = store._dbs.get(partition)
    if db is None or partition not in (active_partitions(table) or ()):
        return None
    page: list[tuple[bytes, dict[str, Any]]] = []
    for key, data in db.items(from_key=after):
        if key == after or key == store.offset_key:
            continue
        page.append((key, json.loads(data)))
        if len(page) == limit:
            break
    return page


def active_partitions(table: Any) -> list[int] | None:
    """The partitions of ``table`` this worker holds as active (not standby), or None in RAM."""
    store = getattr(table, "data", None)
    if not isinstance(store, RocksDBStore):
        return None
    actives = store.app.assignor.assigned_actives()
    topic = table.changelog_topic_name
    return sorted(p for p in store._dbs if TP(topic, p) in actives)


def case_ids(table: Any) -> Iterator[str]:
    """The key of every case of ``table``, without decoding a value (as :func:`iter_cases`)."""
    if isinstance(getattr(table, "data", None), RocksDBStore):
        return iter(table.keys())
    return iter(list(table.keys()))


def read_value(table: Any, key: str) -> dict[str, Any] | None:
    """The value of ``key`` in ``table``, from whichever partition holds it."""
    store = getattr(table, "data", None)
    if not isinstance(store, RocksDBStore):
        value: dict[str, Any] | None = table.get(key)
        return value
    found = store._get_bucket_for_key(encode(key))
    return None if found is None else json.loads(found[1])


def write_value(table: Any, key: str, value: dict[str, Any], partition: int) -> bytes:
    """Store ``value`` for ``key`` of ``table`` in ``partition``; return the value's bytes.

    The bytes are those of its changelog record too, so the store and the changelog hold the
    same, and recovery rebuilds exactly what was written.
    """
    store = table.data
    data = encode(value)
    if not isinstance(store, RocksDBStore):
        store[key] = value
        return data
    stored_key = encode(key)
    store._db_for_partition(partition).put(stored_key, data)
    store._key_index[stored_key] = partition
    return data


def encode(value: object) -> bytes:
    """JSON bytes, as Faust's ``json`` serializer writes these tables' plain keys and values."""
    return json.dumps(value).encode()
