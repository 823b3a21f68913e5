"""Audit entries as the audit store's rows, from what ``kawal.case.audit`` carries.

Only the hub's worker should write that topic, and only ``kawal.AuditEntry`` records (which
entries the hub made is :mod:`streams.audit.hub_entries`'s question). Anything else
found there (another schema's record from a misdirected producer) is refused as a record that
does not fit, as one that does not decode is: storing it, or failing on it, would stop the
trail behind it at every start of the sink and of ``kawal replay``.
"""

from __future__ import annotations

import json
from typing import Any

from schemas.codec import AvroCodec
from schemas.errors import SchemaMismatchError
from streams.topics import CASE_AUDIT

#: The schema of every record of ``kawal.case.audit``.
AUDIT_ENTRY = "kawal.AuditEntry"
#: Fields only feeds fill: empty on kawal.case.audit, no column in the store.
_FEED_ONLY = frozenset({"sealed_disclosures", "feed_disclosures"})


def row_from_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A decoded ``kawal.AuditEntry`` as an audit-store row (disclosures as JSON text).

    The row keeps what ``kawal.case.audit`` carries: the disclosures under the case's data key.
    """
    row = {key: value for key, value in entry.items() if key not in _FEED_ONLY}
    return row | {
        "disclosures": json.dumps(entry.get("disclosures", [])),
        "vaulted_disclosures": entry.get("vaulted_disclosures", b""),
    }


def row_from_record(codec: AvroCodec, value: bytes) -> dict[str, Any]:
    """The row of a record of ``kawal.case.audit``, unchecked (:mod:`streams.audit.hub_entries`).

    Raises:
        CodecError: the record does not decode, or is not a ``kawal.AuditEntry``
            (:class:`~schemas.errors.SchemaMismatchError`, naming its schema).
    """
    return row_from_entry(entry_from_record(codec, value))


def entry_from_record(codec: AvroCodec, value: bytes) -> dict[str, Any]:
    """The decoded ``kawal.AuditEntry`` of a record of ``kawal.case.audit``.

    Raises:
        CodecError: the record does not decode, or is not a ``kawal.AuditEntry``
            (:class:`~schemas.errors.SchemaMismatchError`, naming its schema).
    """
    decoded = codec.decode(value)
    if decoded.full_name != AUDIT_ENTRY:
        raise SchemaMismatchError(
            f"{CASE_AUDIT} holds {AUDIT_ENTRY} records only, which the hub's worker writes; "
            f"this is a {decoded.full_name}: find the producer that wrote it there (the "
            "record's place is its source) and have it write where its schema belongs"
        )
    return decoded.record
