"""The per-case hash chain: each entry's hash covers its statement, which names its predecessor.

``hash = SHA-256(statement)``, the statement being the Avro binary encoding of
``kawal.statement.EntryV1`` (:mod:`schemas.statements`): the case, the sequence number, the
previous hash, when and where the hub read the event, the sender's key id and signature, and
the event's bytes exactly as the sender signed them. So every stored column a view shows is
either hashed or derived from hashed bytes (the event id and type are read from the event),
and any institution holding an entry recomputes the chain without the hub.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from schemas.statements import ENTRY, statement_bytes

#: ``prev_hash`` of a case's first entry (seq 1): 32 zero bytes, hex.
GENESIS_HASH = "0" * 64
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ChainLink(Protocol):
    """What hashing and verification need of a trail entry."""

    @property
    def case_id(self) -> str:
        """Case of the entry."""

    @property
    def seq(self) -> int:
        """1-based position in the case's trail."""

    @property
    def prev_hash(self) -> str:
        """Hash of the previous entry (hex)."""

    @property
    def hash(self) -> str:
        """Hash of this entry (hex)."""

    @property
    def recorded_at(self) -> datetime:
        """When the hub accepted the event."""

    @property
    def source_topic(self) -> str:
        """Topic the event was read from."""

    @property
    def source_partition(self) -> int:
        """Partition the event was read from."""

    @property
    def source_offset(self) -> int:
        """Offset the event was read from."""

    @property
    def key_id(self) -> str:
        """Id of the sender's key."""

    @property
    def signature(self) -> bytes:
        """The sender's signature of the event."""

    @property
    def event(self) -> bytes:
        """The event's bytes as the sender signed them."""


@dataclass(frozen=True)
class EntryFields:
    """An entry's hashed fields, before its hash is known."""

    case_id: str
    seq: int
    prev_hash: str
    recorded_at: datetime
    source_topic: str
    source_partition: int
    source_offset: int
    key_id: str
    signature: bytes
    event: bytes


def epoch_millis(moment: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Integer arithmetic, as Avro's timestamp-millis: a float product could be off by one.
    return (moment - EPOCH) // timedelta(milliseconds=1)


def whole_millis(moment: datetime) -> datetime:
    """``moment`` cut to whole milliseconds, the precision of Avro's timestamp-millis."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def entry_hash(entry: EntryFields | ChainLink) -> str:
    """The hex SHA-256 of an entry's statement."""
    statement = statement_bytes(
        ENTRY,
        {
            "case_id": entry.case_id,
            "seq": entry.seq,
            "prev_hash": entry.prev_hash,
            "recorded_at": epoch_millis(entry.recorded_at),
            "source_topic": entry.source_topic,
            "source_partition": entry.source_partition,
            "source_offset": entry.source_offset,
            "key_id": entry.key_id,
            "signature": entry.signature,
            "event": entry.event,
        },
    )
    return hashlib.sha256(statement).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first place where a trail stops verifying."""

    seq: int
    reason: str


def verify_chain(entries: Iterable[ChainLink]) -> ChainBreak | None:
    """Check a case's entries in order; return the first break, or None if the chain holds."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainBreak(expected_seq, f"expected seq {expected_seq}, found {entry.seq}")
        if entry.prev_hash != expected_prev:
            return ChainBreak(entry.seq, "prev_hash does not match the previous entry's hash")
        if entry_hash(entry) != entry.hash:
            return ChainBreak(entry.seq, "hash does not match the entry's statement")
        expected_prev = entry.hash
        expected_seq += 1
    return None
