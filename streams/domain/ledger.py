"""The ledger: per-case sequence numbers and the hash chain of the canonical trail.

Every accepted event gets the next sequence number of its case and
``hash = SHA-256(prev_hash ‖ committed event bytes)``, the canonical bytes with personal data
replaced by salted commitments (:mod:`streams.domain.redaction`); the values travel beside the entry
as disclosures. An event already in the chain, as after a crash between the case table write
and the offset commit, keeps its original sequence number and hash; the audit sink is
idempotent on ``(case_id, seq)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streams.domain.chain import GENESIS_HASH, chain_hash


@dataclass(frozen=True)
class Link:
    """One entry's place in its case's chain."""

    seq: int
    prev_hash: str
    hash: str
    #: False when the event was chained before (a redelivery re-emits its entry).
    new: bool


@dataclass
class CaseChain:
    """A case's chain: the hash of every entry and where each event sits in it."""

    hashes: list[str] = field(default_factory=list)
    seq_of: dict[str, int] = field(default_factory=dict)

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest entry (0 for a new case)."""
        return len(self.hashes)

    def prev_hash(self, seq: int) -> str:
        """Hash of the entry before ``seq``."""
        return self.hashes[seq - 2] if seq > 1 else GENESIS_HASH

    def place(self, event_id: str, committed: bytes) -> Link:
        """Where the event goes in the chain: its entry if chained already, else the next one.

        Nothing changes until :meth:`extend`, so a failure in between leaves the chain intact.
        """
        seq = self.seq_of.get(event_id)
        if seq is not None:
            return Link(seq, self.prev_hash(seq), self.hashes[seq - 1], new=False)
        seq = self.last_seq + 1
        prev = self.prev_hash(seq)
        return Link(seq, prev, chain_hash(prev, committed), new=True)

    def extend(self, event_id: str, link: Link) -> None:
        """Chain a new entry placed by :meth:`place`."""
        self.hashes.append(link.hash)
        self.seq_of[event_id] = link.seq

    def to_json(self) -> dict[str, Any]:
        """Table value (JSON-serializable)."""
        return {"hashes": self.hashes, "seq_of": self.seq_of}

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> CaseChain:
        """Rebuild from a table value; None is a new case."""
        if not value:
            return cls()
        return cls(list(value["hashes"]), dict(value["seq_of"]))


def audit_entry(
    link: Link,
    envelope: dict[str, Any],
    committed: bytes,
    source: tuple[str, int, int],
    disclosures: list[dict[str, str]],
) -> dict[str, Any]:
    """The ``kawal.AuditEntry`` record of the event at ``link``, accepted at ``source``."""
    topic, partition, offset = source
    return {
        "case_id": envelope["case_id"],
        "seq": link.seq,
        "event_id": envelope["event_id"],
        "event_type": envelope["event_type"],
        "prev_hash": link.prev_hash,
        "hash": link.hash,
        "event": committed,
        "recorded_at": datetime.now(UTC),
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        "disclosures": disclosures,
    }
