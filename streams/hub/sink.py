"""Audit sink agent: ``kawal.case.audit`` → the SQL audit store.

Stores only the entries the hub made (:mod:`streams.audit.hub_entries`), dead-lettering any
other record with its reason. Writes in batches, one transaction each holding the entries and
the offsets they came from (table ``consumed_offsets``), and ignores entries already stored, so
a redelivered batch after a crash adds nothing. Kafka offsets are committed only after the
batch is written. A batch that grew the hub's Merkle log may be followed by a signed tree head
(:mod:`streams.hub.heads`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import faust
from faust.streams import Stream

from monitoring.metrics import HubMetrics, Outcome, Stage, Where
from monitoring.stored import StoredEntries
from schemas.codec import AvroCodec, CodecError
from streams.audit.entry_rows import entry_from_record, row_from_entry
from streams.audit.entry_writes import Inserted
from streams.audit.hub_entries import TrailEnds, stored_unmade, unmade
from streams.audit.store import AuditStore, StoreError
from streams.domain.keys import KeyRegistry
from streams.domain.reasons import Reason, Rejection
from streams.hub.heads import HeadPublisher
from streams.hub.outbox import Outbox
from streams.hub.rejections import dead_letter, log_stop, reason_for_codec_error
from streams.topics import CASE_AUDIT

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Backoff between attempts while the audit store is unreachable, in seconds.
RETRY_INITIAL_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0

#: Largest batch written in one transaction, and how long to wait to fill it, in seconds.
#: Under load a batch fills while the previous one is written; the window is what the last
#: entries of a burst wait (50 ms cost ``make bench`` about 7% against 10 ms, for no less CPU).
BATCH_SIZE = 500
BATCH_WINDOW_SECONDS = 0.01


@dataclass(frozen=True)
class AuditSink:
    """Writes audit entries into the store; what the sink process needs and nothing more."""

    codec: AvroCodec
    store: AuditStore
    metrics: HubMetrics
    #: The key registry: the hub's signing keys that vouch for entries, and its encryption key,
    #: which dead letters' payloads are sealed to.
    keys: KeyRegistry
    #: Makes an outbox for the dead letters of a batch.
    new_outbox: Callable[[], Outbox]
    #: Signs and publishes tree heads; None: the sink publishes none.
    heads: HeadPublisher | None = None
    #: When an entry was last stored, for ``kawal status``; None: not exported.
    stored: StoredEntries | None = None
    #: Reads ``keys`` again in place if its file changed (a stat when it did not); None: never.
    refresh_keys: Callable[[], object] | None = None

    async def write_batch(self, messages: list[faust.types.Message]) -> None:
        """Check a batch of audit entries and store those the hub made in one transaction.

        Every other record goes to ``kawal.dlq`` with its reason (:mod:`streams.audit.hub_entries`)
        and the batch goes on; the dead letters are sent before the batch is stored, as the
        store's offsets are where a restarted sink resumes.
        """
        if self.refresh_keys is not None:
            # The worker reads the registry before each batch it signs: an entry signed with a
            # key registered a moment ago must not be refused before this process's own check.
            self.refresh_keys()
        outbox = self.new_outbox()
        entries = self._decoded(messages, outbox)
        ends = TrailEnds(self.store)
        await self._until_answered(lambda: ends.load(entry for _, entry in entries))
        rows: list[dict[str, Any]] = []
        for message, entry in entries:
            refusal = unmade(self.keys, entry) or ends.broken(entry)
            if refusal is not None:
                self._dead_letter(outbox, refusal.reason, refusal.detail, message)
                continue
            ends.accept(entry)
            rows.append(row_from_entry(entry))
        await outbox.flush()
        inserted = await self.insert_until_stored(rows, applied_offsets(messages))
        self.metrics.count(Stage.SINK, Outcome.ACCEPTED, inserted.new)
        if self.stored is not None:
            self.stored.stored(inserted.new)
        self.metrics.count(Stage.SINK, Outcome.DUPLICATE, len(rows) - inserted.new)
        await self._report_conflicts(inserted)
        if inserted.new and self.heads is not None:
            await self.heads.publish_due()

    def _decoded(
        self, messages: list[faust.types.Message], outbox: Outbox
    ) -> list[tuple[faust.types.Message, dict[str, Any]]]:
        """Each message with its decoded entry; one that is no entry is dead-lettered."""
        entries = []
        for message in messages:
            try:
                entries.append((message, entry_from_record(self.codec, message.value or b"")))
            except CodecError as exc:
                self._dead_letter(outbox, reason_for_codec_error(exc), str(exc), message)
        return entries

    def _dead_letter(
        self, outbox: Outbox, reason: Reason, detail: str, message: faust.types.Message
    ) -> None:
        dead_letter(
            self.codec, self.keys, self.metrics, outbox, Stage.SINK, reason, detail, message
        )

    async def _report_conflicts(self, inserted: Inserted) -> None:
        # The store keeps the entry it had: the trail is append-only. Case ids are opaque.
        for place in inserted.conflicts:
            self.metrics.chain_failure(Where.AUDIT_SINK)
            kept = await self._until_answered(
                functools.partial(stored_unmade, self.store, self.keys, place)
            )
            log.error(conflict_message(place, kept))

    async def insert_until_stored(
        self, rows: list[dict[str, Any]], offsets: dict[tuple[str, int], int]
    ) -> Inserted:
        """Insert a batch with its offsets in one transaction, retrying while the store is down.

        The batch is not acknowledged until it is stored, so an outage delays the trail but
        never loses an entry; ``/readyz`` reports the store as refusing writes meanwhile, and
        the log says when it takes them again.
        """
        started = time.perf_counter()
        inserted = await self._until_answered(
            functools.partial(self.store.insert_entries, rows, offsets), "writes"
        )
        self.metrics.store_written(time.perf_counter() - started)
        return inserted

    async def _until_answered(self, call: Callable[[], T], doing: str = "reads") -> T:
        """``call`` (a store's ``doing``: reads or writes) in a thread, retried while it is down."""
        delay = RETRY_INITIAL_SECONDS
        started = time.perf_counter()
        failed = 0
        while True:
            try:
                # The store is synchronous (SQLAlchemy); keep the event loop free for heartbeats.
                answer = await asyncio.to_thread(call)
                if failed:
                    log.warning(
                        "the audit store takes %s again, after %d failed attempts in %.0f s; "
                        "the held entries are stored, nothing is to be replayed",
                        doing,
                        failed,
                        time.perf_counter() - started,
                    )
                return answer
            except StoreError as exc:
                failed += 1
                self.metrics.store_failed()
                log.warning("audit store unavailable (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)


def conflict_message(place: tuple[str, int], kept: Rejection | None) -> str:
    """What to log of an entry the hub made that met another entry at its place in the store.

    ``kept`` is why the stored entry is not the hub's (a store written before the sink checked
    entries), or None: the hub made both, and its case state and the trail diverged.
    """
    case_id, seq = place
    if kept is None:
        return (
            f"entry {seq} of case {case_id} conflicts with the stored one (another hash, both "
            "signed by the hub): the worker's case state and the trail diverged; the store "
            "keeps the stored entry. Run `kawal audit verify` and see "
            "docs/operations.md#kawalchainverificationfailed"
        )
    return (
        f"entry {seq} of case {case_id} conflicts with the stored one, which the hub did not "
        f"make ({kept.reason}): it was written to {CASE_AUDIT} and stored before the sink "
        "checked entries. The new entry is the hub's; the store keeps the forged one until it "
        "is rebuilt: run `kawal audit verify`, then rebuild the store with `kawal replay` "
        "into an empty one (docs/operations.md#kawalaudittopicforged)"
    )


def register(app: faust.App, case_audit: faust.TopicT, sink: AuditSink) -> None:
    """Attach the audit sink agent, reading ``kawal.case.audit``, to ``app``.

    With a head publisher, a timer at its interval also publishes a head for growth that no
    later batch followed, and the head a restart left unsent.
    """
    if sink.heads is not None:
        interval = sink.heads.interval.total_seconds()
        app.timer(interval, name="kawal.tree-heads")(sink.heads.publish_due)

    @app.agent(case_audit, name="kawal.audit-sink")
    async def audit_sink(stream: faust.StreamT[bytes]) -> None:
        # take_events acks a batch only after the loop body has written it.
        batches = cast(Stream[bytes], stream).take_events(BATCH_SIZE, within=BATCH_WINDOW_SECONDS)
        try:
            async for events in batches:
                started = time.perf_counter()
                await sink.write_batch([event.message for event in events])
                per_event = (time.perf_counter() - started) / len(events)
                for _ in events:
                    sink.metrics.observe(Stage.SINK, per_event)
        except Exception as exc:
            log_stop("audit sink", exc)  # and the app's CrashingSupervisor stops the sink
            raise


def applied_offsets(messages: list[faust.types.Message]) -> dict[tuple[str, int], int]:
    """Next offset of each partition once ``messages`` are applied."""
    offsets: dict[tuple[str, int], int] = {}
    for message in messages:
        key = (message.topic, message.partition)
        offsets[key] = max(offsets.get(key, 0), message.offset + 1)
    return offsets
