"""The case table and the accepted-event index: what the worker keeps of each case.

The case table holds one changelog-backed value per case: its lifecycle and its chain's head
(:class:`CaseRecord`). Ingress reads the lifecycle and the ledger the chain of the same case in
the same step, so they share one value and one changelog record per write.

The accepted-event index holds one value per accepted event, keyed by its case and event id:
where it was read and where its entry sits (:class:`~streams.domain.ledger.AcceptedEvent`).
Ingress tells a redelivery from a duplicate by it and the ledger gives a redelivery its entry
again. It is kept apart because every write re-serializes a case's whole value: with every
event in it, a long case cost more each event and grew without bound. Event ids are the
senders', unique per case only, so the case id is part of the key. Its records go to their
case's partition, so it is co-partitioned with the case table and moves with it.

The pipeline reads each case of a batch once and writes it back once: the values go into the
tables' stores, and their changelog records out through the batch's
:class:`~streams.hub.outbox.Outbox` to the partition of the event that changed the case, as
Faust's own table writes do. Faust's per-write send path costs about a tenth of a millisecond
here. Keys and values are JSON, as Faust serializes these tables', so Faust's recovery rebuilds
both tables from these records like from its own.

The two changelogs can disagree after a crash, each record landing or not on its own:

- an index value past its case's head was stored without the case value that chained it, so it
  is not counted: the event, redelivered, is chained again to the same entry;
- a case value whose index records were lost still knows its latest events: it keeps the index
  values its last :data:`KEPT_SAVES` saves added. The pipeline confirms one batch while it makes
  the next, so at most two batches have records the broker may not have; older ones are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.domain.ledger import AcceptedEvent, CaseChain, legacy_entries
from streams.domain.lifecycle import CaseLifecycle
from streams.hub.case_store import encode, read_value, write_value
from streams.hub.outbox import Outbox

#: Saves whose new index values a case value keeps (see the module's docstring).
KEPT_SAVES = 2

#: Index values by event id.
Entries = dict[str, AcceptedEvent]


@dataclass
class CaseRecord:
    """What the hub keeps of one case (no personal data)."""

    lifecycle: CaseLifecycle
    chain: CaseChain

    def to_json(self) -> dict[str, Any]:
        """Table value."""
        return {"lifecycle": self.lifecycle.to_json(), "chain": self.chain.to_json()}

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> CaseRecord | None:
        """From a table value, of this version or an earlier one; None for an unseen case."""
        if not value:
            return None
        lifecycle = CaseLifecycle.from_json(value["lifecycle"])
        return None if lifecycle is None else cls(lifecycle, CaseChain.from_json(value["chain"]))


def lifecycle_of(value: dict[str, Any] | None) -> CaseLifecycle | None:
    """The lifecycle in a case table value (for readers of the table outside the pipeline)."""
    return CaseLifecycle.from_json(value["lifecycle"]) if value else None


def index_key(case_id: str, event_id: str) -> str:
    """The accepted-event index's key of ``event_id`` of ``case_id``."""
    return f"{case_id}/{event_id}"


class CaseBatch:
    """The cases one batch reads and changes, written back once by :meth:`save`."""

    def __init__(self, table: Any, index: Any = None) -> None:
        """Read from and write to the Faust tables ``table`` and ``index``.

        Args:
            table: The case table.
            index: The accepted-event index; None is an empty dict (a batch never saved).
        """
        self._table = table
        self._index = {} if index is None else index
        self._read: dict[str, CaseRecord | None] = {}
        #: The index values each case's value keeps, by save, oldest first.
        self._held: dict[str, list[Entries]] = {}
        #: Index values each case's next save writes.
        self._added: dict[str, Entries] = {}
        self._changed: dict[str, tuple[CaseRecord, int]] = {}

    def get(self, case_id: str) -> CaseRecord | None:
        """The case as this batch left it (None for a case not yet reported)."""
        if case_id not in self._read:
            value = read_value(self._table, case_id)
            self._read[case_id] = CaseRecord.from_json(value)
            self._held[case_id] = _held_of(value)
            # A value of an earlier version keeps its events itself: they go to the index with
            # its next save, and are found meanwhile.
            legacy = _legacy_of(value)
            if legacy:
                self._added[case_id] = legacy
        return self._read[case_id]

    def lifecycle(self, case_id: str) -> CaseLifecycle | None:
        """The case's lifecycle as this batch left it (None for a case not yet reported)."""
        known = self.get(case_id)
        return known.lifecycle if known else None

    def accepted(self, case_id: str, event_id: str) -> AcceptedEvent | None:
        """Where the case accepted and chained ``event_id``, as this batch left it, if it did."""
        known = self.get(case_id)
        if known is None:
            return None
        found = self._added.get(case_id, {}).get(event_id) or _find(self._held[case_id], event_id)
        if found is None:
            value = read_value(self._index, index_key(case_id, event_id))
            found = AcceptedEvent.from_json(value) if value else None
        # Past the head: stored without the case value that chained it (module docstring).
        return found if found is not None and found.seq <= known.chain.last_seq else None

    def accept(self, case_id: str, event_id: str, entry: AcceptedEvent) -> None:
        """Keep an event's index value; it is written with its case, which :meth:`put` keeps."""
        self._added.setdefault(case_id, {})[event_id] = entry

    def put(self, case_id: str, record: CaseRecord, partition: int) -> None:
        """Keep the changed case; its changelog records go to ``partition`` on save."""
        self._read[case_id] = record
        self._changed[case_id] = (record, partition)

    def save(self, outbox: Outbox) -> None:
        """Write every changed case and its new index values; queue their changelog records."""
        for case_id, (record, partition) in self._changed.items():
            added = self._added.pop(case_id, {})
            # The index values first: a crash in between leaves values past the case's head,
            # which do not count, never a case whose events are nowhere.
            for event_id, entry in added.items():
                _store(
                    outbox, self._index, index_key(case_id, event_id), entry.to_json(), partition
                )
            held = self._held.get(case_id, [])
            if added:
                held = self._held[case_id] = [*held[1 - KEPT_SAVES :], added]
            value = record.to_json() | {"recent": [_entries_json(entries) for entries in held]}
            _store(outbox, self._table, case_id, value, partition)
        self._changed.clear()


def _store(outbox: Outbox, table: Any, key: str, value: dict[str, Any], partition: int) -> None:
    """Write ``value`` into ``table``'s ``partition`` and queue its changelog record."""
    data = write_value(table, key, value, partition)
    topic = table.changelog_topic.get_topic_name()
    outbox.add(topic, encode(key), data, partition=partition)


def _entries_json(entries: Entries) -> dict[str, Any]:
    return {event_id: entry.to_json() for event_id, entry in entries.items()}


def _find(saves: list[Entries], event_id: str) -> AcceptedEvent | None:
    for entries in reversed(saves):
        if event_id in entries:
            return entries[event_id]
    return None


def _held_of(value: dict[str, Any] | None) -> list[Entries]:
    """The index values a case table value keeps (none in a value of an earlier version)."""
    saves = value.get("recent", []) if value else []
    return [{key: AcceptedEvent.from_json(v) for key, v in entries.items()} for entries in saves]


def _legacy_of(value: dict[str, Any] | None) -> Entries:
    """The index values of a case value written before the index: it kept them itself."""
    if not value or "hashes" not in value["chain"]:
        return {}
    return legacy_entries(value["chain"], value["lifecycle"].get("accepted", {}))
