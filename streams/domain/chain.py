"""The per-case hash chain: ``hash = SHA-256(prev_hash ‖ canonical event bytes)``.

The canonical bytes of an event are its Avro single-object encoding as stamped at ingress,
so any institution holding the bytes can recompute the chain without the hub.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

#: ``prev_hash`` of a case's first entry (seq 1): 32 zero bytes, hex.
GENESIS_HASH = "0" * 64


def chain_hash(prev_hash: str, event_bytes: bytes) -> str:
    """Hash of an entry given its predecessor's hash (hex) and its canonical event bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + event_bytes).hexdigest()


class ChainLink(Protocol):
    """What verification needs of a trail entry."""

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
    def event(self) -> bytes:
        """Canonical event bytes."""


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
        if chain_hash(entry.prev_hash, entry.event) != entry.hash:
            return ChainBreak(entry.seq, "hash does not match the entry's event bytes")
        expected_prev = entry.hash
        expected_seq += 1
    return None
