"""Avro binary encoding of the few primitive values the hot path writes by hand.

fastavro writes whole records well but costs several microseconds per call in setup, which
dominates for the small, fixed shapes the hub writes several times per event: a record's last
fields (:mod:`streams.hub.entry_views`) and arrays of three strings
(:mod:`streams.domain.sealing`). Those callers check at start that the schema still has the
shape they write, and their tests compare the bytes with fastavro's.
"""

from __future__ import annotations

#: Non-negative longs below 64 take one byte: the lengths of most fields written here.
_ONE_BYTE = 64
_SMALL = tuple(bytes([value << 1]) for value in range(_ONE_BYTE))


def write_long(value: int) -> bytes:
    """An Avro long (or int): zig-zag, then a base-128 varint, least significant group first."""
    if 0 <= value < _ONE_BYTE:
        return _SMALL[value]
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


def write_bytes(value: bytes) -> bytes:
    """Avro bytes: the length as a long, then the bytes."""
    return write_long(len(value)) + value


def write_string(value: str) -> bytes:
    """An Avro string: its UTF-8 bytes as Avro bytes."""
    return write_bytes(value.encode())
