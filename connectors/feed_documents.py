"""A feed entry as a JSON document for an institution's system, as outbound connectors send it.

It carries the trail position (seq, hash, prev_hash: the system can verify the chain) and the
event's fields as the hub disclosed them to the institution; personal data the hub did not
disclose (still a commitment in the revealed event) is left out rather than sent as a
meaningless hash.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from connectors.base import FeedEntry
from schemas.catalog import SchemaCatalog
from streams.domain.commitments import is_commitment


def feed_document(entry: FeedEntry, catalog: SchemaCatalog) -> dict[str, Any]:
    """The document of one feed entry (encode it with :func:`json_value` as ``default``)."""
    personal = catalog.personal_data_fields(entry.event_type)
    withheld = {field for field in personal if is_commitment(entry.event.get(field))}
    envelope = entry.event["envelope"]
    return {
        "event_id": entry.event_id,
        "event_type": entry.event_type,
        "case_id": entry.case_id,
        "seq": entry.entry["seq"],
        "hash": entry.entry["hash"],
        "prev_hash": entry.entry["prev_hash"],
        "recorded_at": entry.entry["recorded_at"],
        "source": envelope["source"],
        "event_time": envelope["event_time"],
        "details": {
            key: value
            for key, value in entry.event.items()
            if key != "envelope" and key not in withheld
        },
    }


def json_value(value: Any) -> Any:
    """A value of a decoded event as JSON: moments in ISO 8601, UUIDs as text, bytes as hex."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
