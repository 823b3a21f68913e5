"""The case table: one changelog-backed value per case, holding its lifecycle and its chain.

Ingress reads the lifecycle and the ledger the chain of the same case in the same step, so
they share one value and one changelog record per write. The pipeline reads each case of a
batch once and writes it back once: the value goes into the table's store, and its changelog
record goes out through the batch's :class:`~streams.hub.outbox.Outbox` to the partition of the
event that changed it, as Faust's own table writes do. Faust's per-write send path costs about
a tenth of a millisecond here. Keys and values are JSON, as Faust serializes this table's, so
Faust's recovery rebuilds the table from these records like from its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.domain.ledger import CaseChain
from streams.domain.lifecycle import CaseLifecycle
from streams.hub.case_store import encode, read_case, write_case
from streams.hub.outbox import Outbox


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
        """From a table value; None for a case the hub has not seen."""
        if not value:
            return None
        lifecycle = CaseLifecycle.from_json(value["lifecycle"])
        return None if lifecycle is None else cls(lifecycle, CaseChain.from_json(value["chain"]))


def lifecycle_of(value: dict[str, Any] | None) -> CaseLifecycle | None:
    """The lifecycle in a case table value (for readers of the table outside the pipeline)."""
    return CaseLifecycle.from_json(value["lifecycle"]) if value else None


class CaseBatch:
    """The cases one batch reads and changes, written back once by :meth:`save`."""

    def __init__(self, table: Any) -> None:
        """Read from and write to the Faust table ``table``."""
        self._table = table
        self._read: dict[str, CaseRecord | None] = {}
        self._changed: dict[str, tuple[CaseRecord, int]] = {}

    def get(self, case_id: str) -> CaseRecord | None:
        """The case as this batch left it (None for a case not yet reported)."""
        if case_id not in self._read:
            self._read[case_id] = CaseRecord.from_json(read_case(self._table, case_id))
        return self._read[case_id]

    def put(self, case_id: str, record: CaseRecord, partition: int) -> None:
        """Keep the changed case; its changelog record goes to ``partition`` on save."""
        self._read[case_id] = record
        self._changed[case_id] = (record, partition)

    def save(self, outbox: Outbox) -> None:
        """Write every changed case to the table and queue its changelog record."""
        table = self._table
        name = table.changelog_topic.get_topic_name()
        for case_id, (record, partition) in self._changed.items():
            value = write_case(table, case_id, record.to_json(), partition)
            outbox.add(name, encode(case_id), value, partition=partition)
        self._changed.clear()
