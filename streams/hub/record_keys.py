"""What a record keyed otherwise than by its event's ``case_id`` text should be keyed with.

A record's key must be its event's ``case_id`` exactly as the event writes it, 36 characters of
UTF-8 text: Kafka's partitioner hashes those bytes, so every record of a case lands on one
partition. Clients get it wrong in a few known ways (no key, the UUID's 16 raw bytes, the text in
capitals or without hyphens); the reason names the way, so the sender knows what to change. The
key itself is never quoted: it may be anything, personal data included.
"""

from __future__ import annotations

import uuid


def key_mismatch_reason(key: bytes | None, case_id: str) -> str:
    """The reason a record keyed ``key`` is refused, for an event of case ``case_id``."""
    wanted = (
        f"key every record with its event's case_id as written in the event, {case_id}: "
        "its 36 characters as UTF-8 text, so that a case stays in order (docs/signing.md)"
    )
    return f"{_what_the_key_is(key, case_id)}; {wanted}"


def _what_the_key_is(key: bytes | None, case_id: str) -> str:
    if not key:
        return "the record has no key"
    try:
        raw = uuid.UUID(case_id).bytes
    except ValueError:
        raw = None
    if key == raw:
        return "the record key is the case_id's 16 raw bytes, not its text"
    text = key.decode("utf-8", errors="replace").strip()
    if text.lower() == case_id.lower():
        return "the record key is the case_id in other letters or with spaces around it"
    if text.replace("-", "").lower() == case_id.replace("-", "").lower():
        return "the record key is the case_id without its hyphens"
    return f"the record key ({len(key)} bytes) is not the event's case_id"
