"""The pipeline step over case tables of its own, a batch at a time, its changelog records kept.

In process, without a broker: each batch is decided, saved and sent as
:meth:`streams.hub.pipeline.Pipeline.process_batch` does, to a producer that keeps what it is
given; :func:`recovered` rebuilds tables on an empty data directory from those records with
Faust's own changelog recovery write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
from faust.types import RecordMetadata

from streams.app import create_app
from streams.broker.transport import Record
from streams.hub.case_store import CaseStoreKind, case_tables, read_value
from streams.hub.case_table import CaseBatch
from streams.hub.outbox import Outbox, PartitionCounts
from streams.hub.pipeline import Outgoing, Pipeline
from streams.settings import Settings
from streams.topics import CASE_AUDIT, DLQ
from tests.hub.steptools import inbound_message, on_tables

#: One changelog record as sent: topic, partition, key and value.
Change = tuple[str, int, bytes, bytes]


class Changelogs:
    """The outbox's producer: keeps the changelog records it is given, in order."""

    def __init__(self) -> None:
        self.sent: list[Change] = []

    async def send_records(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[Awaitable[RecordMetadata]]:
        self.sent += [(topic, partition, key or b"", value) for key, value, _ in records]
        return []

    async def partition_count(self, topic: str) -> int:
        raise AssertionError(f"only changelogs are written here, not {topic}")


def tables(home: Path, kind: CaseStoreKind = CaseStoreKind.ROCKSDB) -> tuple[Any, Any]:
    """A case table and an accepted-event index on an empty data directory under ``home``."""
    settings = Settings(home=home, broker_url="kafka://127.0.0.1:1", case_store=kind.value)
    return case_tables(create_app(settings), kind)


@dataclass
class TableWorker:
    """A pipeline step over its own tables."""

    step: Pipeline
    changelogs: Changelogs

    @classmethod
    def on(
        cls, step: Pipeline, home: Path, kind: CaseStoreKind = CaseStoreKind.ROCKSDB
    ) -> TableWorker:
        """``step`` over new, empty tables under ``home``."""
        return cls(on_tables(step, *tables(home, kind)), Changelogs())

    def batch(self, *messages: faust.types.Message) -> list[Outgoing]:
        """What the records produce, processed as one batch; the tables are written after."""
        cases = CaseBatch(self.step.table, self.step.index)
        produced = [record for message in messages for record in self.step.decide(cases, message)]
        outbox = Outbox(self.changelogs, PartitionCounts(1))
        cases.save(outbox)
        asyncio.run(outbox.send())
        return produced

    def case_value(self, case_id: str) -> dict[str, Any] | None:
        """The case table's value of ``case_id``."""
        return read_value(self.step.table, case_id)


@dataclass(frozen=True)
class _Event:
    """What Faust's recovery write reads of a changelog event."""

    message: faust.types.Message


def recovered(step: Pipeline, home: Path, sent: list[Change]) -> TableWorker:
    """``step`` over tables rebuilt on an empty data directory from the records ``sent``.

    The records are written as Faust's RocksDB store writes a changelog it recovers.
    """
    worker = TableWorker.on(step, home)
    for table in (worker.step.table, worker.step.index):
        topic = table.changelog_topic.get_topic_name()
        events = [
            _Event(_message(change, offset))
            for offset, change in enumerate(c for c in sent if c[0] == topic)
        ]
        table.data.apply_changelog_batch(events, to_key=bytes, to_value=bytes)
    return worker


def _message(change: Change, offset: int) -> faust.types.Message:
    topic, partition, key, value = change
    return faust.types.Message(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=time.time(),
        timestamp_type=0,
        headers=[],
        key=key,
        value=value,
        checksum=None,
    )


class Inbound:
    """Records of the step's institutions, each at the next offset of its topic's partition 0."""

    def __init__(self, step: Pipeline) -> None:
        self.step = step
        self.offset = 0

    def message(self, event_type: str, record: dict[str, Any]) -> faust.types.Message:
        """``record``, signed by its source, as its inbound topic delivers it."""
        self.offset += 1
        return inbound_message(self.step, event_type, record, self.offset)

    def again(self, message: faust.types.Message) -> faust.types.Message:
        """The same bytes published again: a duplicate at another offset."""
        self.offset += 1
        record = (message.topic, message.partition, message.key or b"", message.value or b"")
        return _message(record, self.offset)


def reasons(step: Pipeline, produced: list[Outgoing]) -> list[str]:
    """The reason codes of the dead letters among ``produced``."""
    return [
        step.codec.decode(value).record["reason_code"]
        for topic, _, value, _ in produced
        if topic == DLQ
    ]


def entry_of(step: Pipeline, produced: list[Outgoing]) -> tuple[int, str, str]:
    """Sequence number, previous hash and hash of the audit entry among ``produced``."""
    [entry] = [
        step.codec.decode(value).record for topic, _, value, _ in produced if topic == CASE_AUDIT
    ]
    return entry["seq"], entry["prev_hash"], entry["hash"]


#: Fields made anew each time a record is produced: sealed with a fresh nonce, or a timestamp.
RENEWED = frozenset({"vaulted_disclosures", "feed_disclosures", "issued_at"})


def decoded(step: Pipeline, produced: list[Outgoing]) -> list[tuple[str, dict[str, Any]]]:
    """``produced`` decoded, but for the fields :data:`RENEWED` on every production."""
    return [
        (topic, {k: v for k, v in step.codec.decode(value).record.items() if k not in RENEWED})
        for topic, _, value, _ in produced
    ]
