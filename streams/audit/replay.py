"""``kawal replay``: rebuild the audit store from ``kawal.case.audit``.

Reads every partition of the topic from its beginning up to the high watermark its Fetch
responses carry (right on Kafka and on tansu alike), decodes the entries, keeps those the hub
made (the audit sink's checks: :mod:`streams.audit.hub_entries`) and stores them in batches,
each in one transaction with the offsets it came from: the store's own positions, which the
audit sink resumes from, so a sink started after a replay does not read it again. Entries
already stored are ignored, so replaying twice adds nothing. Records that do not decode, or
are not audit entries (:mod:`streams.audit.entry_rows`), and entries the hub did not make were
dead-lettered by the sink when it first read them (or stored, by a sink from before it checked
entries); they are counted, by reason, and skipped.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from tqdm import tqdm

from schemas.codec import AvroCodec, CodecError
from schemas.errors import KawalError
from streams.audit.entry_rows import entry_from_record, row_from_entry
from streams.audit.entry_writes import Inserted
from streams.audit.hub_entries import TrailEnds, unmade
from streams.audit.store import AuditStore
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.broker.endpoint import BROKER_WAIT_SECONDS, kafka_client
from streams.broker.topic_end import at_end, remaining
from streams.domain.keys import KeyRegistry
from streams.topics import CASE_AUDIT

#: Entries stored per transaction.
BATCH_SIZE = 5_000
#: Give up when the broker sends nothing for this long while records remain, in seconds.
STALL_SECONDS = 30.0
#: How long the broker may hold a fetch with nothing to send, in milliseconds.
FETCH_WAIT_MS = 250


@dataclass(frozen=True)
class ReplayResult:
    """What a replay read and wrote."""

    read: int
    inserted: int
    undecodable: int
    seconds: float
    #: Entries ignored because the store holds another entry at their place (case and seq).
    conflicting: int = 0
    #: Entries the hub did not make, not stored, by reason code (:mod:`streams.audit.hub_entries`).
    refused: Mapping[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        """Entries read per second."""
        return self.read / self.seconds if self.seconds > 0 else 0.0


class ReplayError(KawalError):
    """The topic could not be read to its end."""


def replay(
    bootstrap: list[str],
    store: AuditStore,
    codec: AvroCodec,
    keys: KeyRegistry,
    *,
    progress: bool = True,
    credentials: BrokerCredentials = PLAINTEXT,
    wait: float = BROKER_WAIT_SECONDS,
) -> ReplayResult:
    """Read ``kawal.case.audit`` from its beginning into ``store``: the entries ``keys`` vouch for.

    Raises:
        kafka.errors.KafkaTimeoutError: no broker answered within ``wait`` s.
    """
    started = time.perf_counter()
    consumer = _consumer(bootstrap, credentials, wait)
    try:
        partitions = _assign_all(consumer)
        with tqdm(desc="replay", unit="entries", disable=not progress, file=sys.stderr) as bar:
            checks = _Checks(store, keys)
            read, writer, undecodable = _copy(consumer, partitions, checks, codec, bar)
    finally:
        consumer.close()
    seconds = time.perf_counter() - started
    refused = dict(checks.refused)
    return ReplayResult(read, writer.inserted, undecodable, seconds, writer.conflicting, refused)


def _consumer(bootstrap: list[str], credentials: BrokerCredentials, wait: float) -> KafkaConsumer:
    return kafka_client(
        KafkaConsumer,
        bootstrap,
        credentials.client_kwargs(),
        wait,
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        # Held 250 ms: on tansu a 5 ms look at a large topic's partitions brought nothing for
        # the whole stall time (docs/scale.md, "quiet looks"), and the rebuild gave up.
        fetch_max_wait_ms=FETCH_WAIT_MS,
    )


def _assign_all(consumer: KafkaConsumer) -> list[TopicPartition]:
    numbers = consumer.partitions_for_topic(CASE_AUDIT)
    if not numbers:
        raise ReplayError(f"topic {CASE_AUDIT} does not exist on the broker")
    partitions = [TopicPartition(CASE_AUDIT, number) for number in sorted(numbers)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    return partitions


def _copy(
    consumer: KafkaConsumer,
    partitions: list[TopicPartition],
    checks: _Checks,
    codec: AvroCodec,
    bar: tqdm[Any],
) -> tuple[int, _BatchWriter, int]:
    """Entries read, the writer that stored them (what it stored), entries undecodable."""
    writer = _BatchWriter(checks.store)
    try:
        read, undecodable = _copy_into(consumer, partitions, codec, bar, writer, checks)
    finally:
        writer.close()
    return read, writer, undecodable


def _copy_into(
    consumer: KafkaConsumer,
    partitions: list[TopicPartition],
    codec: AvroCodec,
    bar: tqdm[Any],
    writer: _BatchWriter,
    checks: _Checks,
) -> tuple[int, int]:
    read = undecodable = 0
    entries: list[dict[str, Any]] = []
    offsets: dict[tuple[str, int], int] = {}
    last_progress = time.monotonic()
    while not at_end(consumer, partitions):
        batches = consumer.poll(timeout_ms=200, max_records=BATCH_SIZE)
        for tp, records in batches.items():
            for record in records:
                try:
                    entries.append(entry_from_record(codec, record.value))
                except CodecError:
                    undecodable += 1
            offsets[(tp.topic, tp.partition)] = records[-1].offset + 1
            read += len(records)
            bar.update(len(records))
        if batches:
            last_progress = time.monotonic()
        elif time.monotonic() - last_progress > STALL_SECONDS:
            raise ReplayError(
                f"no records from the broker for {STALL_SECONDS:.0f} s with "
                f"{remaining(consumer, partitions)} of {CASE_AUDIT} left to read: check that the "
                "broker answers (kawal up's log, its tansu.log), then run kawal replay again; "
                "what was stored stays, and is not stored twice"
            )
        bar.total = read + remaining(consumer, partitions)
        if len(entries) >= BATCH_SIZE:
            writer.write(checks.rows(entries), offsets)
            entries, offsets = [], {}
    writer.write(checks.rows(entries), offsets)
    writer.finish()
    return read, undecodable


class _Checks:
    """The audit sink's checks of each batch (:mod:`streams.audit.hub_entries`), counted."""

    def __init__(self, store: AuditStore, keys: KeyRegistry) -> None:
        self.store = store
        self.keys = keys
        self.refused: Counter[str] = Counter()
        # One for the run: the batch the writer still stores is known to it, not yet stored.
        self._ends = TrailEnds(store)

    def rows(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows of the ``entries`` the hub made, in order; the others counted."""
        self._ends.load(entries)
        rows = []
        for entry in entries:
            refusal = unmade(self.keys, entry) or self._ends.broken(entry)
            if refusal is not None:
                self.refused[refusal.reason.value] += 1
                continue
            self._ends.accept(entry)
            rows.append(row_from_entry(entry))
        self._ends.next_batch()
        return rows


class _BatchWriter:
    """Stores one batch in a thread while the next is read: the database releases the GIL."""

    def __init__(self, store: AuditStore) -> None:
        self.store = store
        self.inserted = 0
        self.conflicting = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-writer")
        self._pending: Future[Inserted] | None = None

    def write(self, rows: list[dict[str, Any]], offsets: dict[tuple[str, int], int]) -> None:
        """Store a batch once the previous one is stored (batches stay in order)."""
        self._wait()
        self._pending = self._executor.submit(self.store.insert_entries, rows, offsets)

    def finish(self) -> None:
        """Wait for the last batch."""
        self._wait()

    def close(self) -> None:
        """Stop the writer thread (after the batch it is storing)."""
        self._executor.shutdown()

    def _wait(self) -> None:
        if self._pending is not None:
            written = self._pending.result()  # re-raises a store error here
            self.inserted += written.new
            self.conflicting += len(written.conflicts)
            self._pending = None
