"""Leaves and heads as the audit store holds them, checked before the log is computed from them.

SQLite keeps any value in any column: a leaf's entry hash, a head's root or its consistency
proof edited outside the hub can hold text that is not hex, a number, bytes, a size that is
text or beyond any the hub signed. The log's readers take the hub's types for granted and
stopped on such a value with an error of the Python runtime; read through these functions, it
is refused with what is wrong, never the value stored.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from streams.audit.row_shapes import EDITED, is_number, is_text, kind_of
from streams.domain.chain import EPOCH
from streams.domain.merkle import HASH_BYTES
from streams.domain.tree_heads import SignedTreeHead

#: Hex digits of a SHA-256.
HEX_LENGTH = 2 * HASH_BYTES
#: The latest moment a head's ``issued_at_ms`` may name (datetime's own limit, year 9999).
LATEST_MS = 253_402_300_799_999


def hash_bytes(value: object) -> bytes | None:
    """The 32 bytes of a SHA-256 written in hex, or None if ``value`` is not one."""
    if not is_text(value) or len(str(value)) != HEX_LENGTH:
        return None
    try:
        return bytes.fromhex(str(value))
    except ValueError:
        return None


def head_of_row(row: Any) -> SignedTreeHead:
    """The signed head a ``tree_heads`` row holds.

    Raises:
        ValueError: a column holds what the hub never writes there (the message names it).
    """
    for column in ("tree_size", "issued_at_ms", "previous_size"):
        value = row[column]
        if not is_number(value) or not 0 <= value <= LATEST_MS:
            raise ValueError(f"its {column} holds {kind_of(value)}, not a count: {EDITED}")
    root = hash_bytes(row["root_hash"])
    if root is None:
        raise ValueError(f"its root_hash is not a SHA-256 in hex: {EDITED}")
    if not is_text(row["key_id"]) or not isinstance(row["signature"], bytes):
        raise ValueError(f"its key_id or signature is not of the hub's kind: {EDITED}")
    return SignedTreeHead(
        tree_size=row["tree_size"],
        root_hash=root,
        issued_at=EPOCH + timedelta(milliseconds=row["issued_at_ms"]),
        key_id=row["key_id"],
        signature=row["signature"],
        previous_size=row["previous_size"],
        consistency=_consistency(row["consistency"]),
    )


def _consistency(stored: object) -> tuple[bytes, ...]:
    try:
        items = json.loads(str(stored)) if is_text(stored) else None
    except ValueError:
        items = None
    proof = [hash_bytes(item) for item in items] if isinstance(items, list) else [None]
    if any(item is None for item in proof):
        raise ValueError(f"its consistency is not a list of SHA-256s in hex: {EDITED}")
    return tuple(item for item in proof if item is not None)
