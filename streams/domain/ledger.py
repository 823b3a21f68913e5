"""The ledger: per-case sequence numbers and the hash chain of the canonical trail.

Every accepted event gets the next sequence number of its case and the hash of its entry
statement (:mod:`streams.domain.chain`), which covers the event's bytes exactly as its sender
signed them, personal data committed (:mod:`streams.domain.commitments`); the values travel
beside the entry as disclosures. An event already in the chain, as after a crash between the
case table write and the offset commit, keeps its original sequence number and hash; the audit
sink is idempotent on ``(case_id, seq)``. Everything hashed is the same on a redelivery (the
hub's time is the inbound record's broker timestamp), so a re-emitted entry is byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from streams.domain.chain import GENESIS_HASH, EntryFields, entry_hash
from streams.domain.signed_events import SignedEvent


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

    @property
    def head(self) -> tuple[int, str] | None:
        """Sequence number and hash of the newest entry; None for a new case."""
        return (self.last_seq, self.hashes[-1]) if self.hashes else None

    def place(self, event_id: str, entry_at: Callable[[int, str], EntryFields]) -> Link:
        """Where the event goes in the chain: its entry if chained already, else the next one.

        ``entry_at(seq, prev_hash)`` gives the new entry's hashed fields. Nothing changes until
        :meth:`extend`, so a failure in between leaves the chain intact.
        """
        seq = self.seq_of.get(event_id)
        if seq is not None:
            return Link(seq, self.prev_hash(seq), self.hashes[seq - 1], new=False)
        seq = self.last_seq + 1
        prev = self.prev_hash(seq)
        return Link(seq, prev, entry_hash(entry_at(seq, prev)), new=True)

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


def entry_fields(
    signed: SignedEvent, source: tuple[str, int, int], recorded_at: datetime
) -> Callable[[int, str], EntryFields]:
    """The hashed fields of ``signed``'s entry at a place in its chain, read at ``source``."""
    topic, partition, offset = source

    def at(seq: int, prev_hash: str) -> EntryFields:
        return EntryFields(
            case_id=signed.envelope["case_id"],
            seq=seq,
            prev_hash=prev_hash,
            recorded_at=recorded_at,
            source_topic=topic,
            source_partition=partition,
            source_offset=offset,
            key_id=signed.key_id,
            signature=signed.signature,
            event=signed.event,
        )

    return at


def audit_entry(
    link: Link,
    signed: SignedEvent,
    source: tuple[str, int, int],
    recorded_at: datetime,
    hub_signature: tuple[str, bytes],
) -> dict[str, Any]:
    """The ``kawal.AuditEntry`` record of ``signed`` at ``link``, vouched for by the hub."""
    fields = entry_fields(signed, source, recorded_at)(link.seq, link.prev_hash)
    envelope = signed.envelope
    hub_key_id, hub_sig = hub_signature
    return {
        "case_id": fields.case_id,
        "seq": link.seq,
        "event_id": envelope["event_id"],
        "event_type": envelope["event_type"],
        "prev_hash": link.prev_hash,
        "hash": link.hash,
        "event": fields.event,
        "recorded_at": recorded_at,
        "source_topic": fields.source_topic,
        "source_partition": fields.source_partition,
        "source_offset": fields.source_offset,
        "disclosures": signed.disclosures,
        "key_id": fields.key_id,
        "signature": fields.signature,
        "hub_key_id": hub_key_id,
        "hub_signature": hub_sig,
    }
