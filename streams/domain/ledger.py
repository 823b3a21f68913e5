"""The ledger: per-case sequence numbers and the hash chain of the canonical trail.

Every accepted event gets the next sequence number of its case and the hash of its entry
statement (:mod:`streams.domain.chain`), which covers the event's bytes exactly as its sender
signed them, personal data committed (:mod:`streams.domain.commitments`); the values travel
beside the entry as disclosures. A case keeps only its chain's head; each accepted event's place
is kept apart, by event (:class:`AcceptedEvent`), so an event already in the chain, as after a
crash between the case table write and the offset commit, keeps its original sequence number
and hash; the audit sink is idempotent on ``(case_id, seq)``. Everything hashed is the same on
a redelivery (the hub's time is the inbound record's broker timestamp), so a re-emitted entry
is byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AcceptedEvent:
    """Where an accepted event was read and where its entry sits: its accepted-event index value.

    Enough to tell a redelivery (the same position) from a duplicate, and to give a redelivery
    its entry's :class:`Link` again, without the case keeping every entry. Event ids, positions
    and hashes only: no personal data.
    """

    #: Inbound position the event was accepted from, ``topic:partition:offset``.
    position: str
    seq: int
    prev_hash: str
    hash: str

    @property
    def link(self) -> Link:
        """The event's entry, placed before."""
        return Link(self.seq, self.prev_hash, self.hash, new=False)

    def to_json(self) -> dict[str, Any]:
        """Index value (JSON-serializable)."""
        return {
            "position": self.position,
            "seq": self.seq,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> AcceptedEvent:
        """From an index value."""
        return cls(value["position"], value["seq"], value["prev_hash"], value["hash"])


@dataclass
class CaseChain:
    """A case's chain, by its head: what the next entry follows.

    Where each earlier event sits is in the accepted-event index (:class:`AcceptedEvent`), so
    the case's value stays the same size however long its trail grows.
    """

    #: Sequence number of the newest entry (0 for a new case).
    last_seq: int = 0
    #: Hash of the newest entry (the genesis hash for a new case).
    last_hash: str = GENESIS_HASH

    def prev_hash(self, seq: int) -> str:
        """Hash of the entry before ``seq``, the next entry (earlier ones are in the index).

        Raises:
            ValueError: ``seq`` is not the next entry's.
        """
        if seq != self.last_seq + 1:
            raise ValueError(f"the chain is at {self.last_seq}; only entry {seq} follows it")
        return self.last_hash

    @property
    def head(self) -> tuple[int, str] | None:
        """Sequence number and hash of the newest entry; None for a new case."""
        return (self.last_seq, self.last_hash) if self.last_seq else None

    def place(
        self, entry_at: Callable[[int, str], EntryFields], earlier: AcceptedEvent | None = None
    ) -> Link:
        """Where the event goes in the chain: its entry if chained already, else the next one.

        ``earlier`` is the event's index value if it was accepted before; ``entry_at(seq,
        prev_hash)`` gives a new entry's hashed fields. Nothing changes until :meth:`extend`,
        so a failure in between leaves the chain intact.
        """
        if earlier is not None:
            return earlier.link
        seq = self.last_seq + 1
        prev = self.prev_hash(seq)
        return Link(seq, prev, entry_hash(entry_at(seq, prev)), new=True)

    def extend(self, link: Link) -> None:
        """Chain a new entry placed by :meth:`place`."""
        if link.seq != self.last_seq + 1 or link.prev_hash != self.last_hash:
            raise ValueError(f"entry {link.seq} does not follow the head at {self.last_seq}")
        self.last_seq, self.last_hash = link.seq, link.hash

    def to_json(self) -> dict[str, Any]:
        """Table value (JSON-serializable)."""
        return {"seq": self.last_seq, "hash": self.last_hash}

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> CaseChain:
        """Rebuild from a table value; None is a new case.

        A value written before the index existed lists every entry's hash: its head is the
        last one (:func:`legacy_entries` gives the rest to the index).
        """
        if not value:
            return cls()
        if "hashes" in value:
            hashes = value["hashes"]
            return cls(len(hashes), hashes[-1]) if hashes else cls()
        return cls(value["seq"], value["hash"])


def legacy_entries(chain: dict[str, Any], accepted: dict[str, str]) -> dict[str, AcceptedEvent]:
    """The index values of a case value written before the index, by event id.

    Such a value kept every entry's hash (``chain``) and, in its lifecycle, the position each
    event was accepted from (``accepted``).
    """
    hashes: list[str] = chain.get("hashes", [])
    entries = {}
    for event_id, seq in chain.get("seq_of", {}).items():
        position = accepted.get(event_id)
        if position is not None and 0 < seq <= len(hashes):
            prev = hashes[seq - 2] if seq > 1 else GENESIS_HASH
            entries[event_id] = AcceptedEvent(position, seq, prev, hashes[seq - 1])
    return entries


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
