"""A case's trail as people and scripts read it: decoded, verified, personal data withheld.

Used by ``kawal case trail`` and ``GET /cases/{case_id}/trail``. The view never shows a field
the schemas mark ``kawal.personal_data``; per-institution views that may show some of them come
with the redaction policy.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec, CodecError
from streams.chain import verify_chain
from streams.store import AuditRow, AuditStore, CaseSummary

WITHHELD = "[withheld: personal data]"


def trail_view(
    store: AuditStore, codec: AvroCodec, catalog: SchemaCatalog, case_id: str
) -> dict[str, Any] | None:
    """The case's trail with its verification result, or None if the case is unknown."""
    rows = store.trail(case_id)
    if not rows:
        return None
    chain_break = verify_chain(rows)
    return {
        "case_id": case_id,
        "verified": chain_break is None,
        "first_bad_seq": chain_break.seq if chain_break else None,
        "problem": chain_break.reason if chain_break else None,
        "entries": [present_entry(row, codec, catalog) for row in rows],
    }


def present_entry(row: AuditRow, codec: AvroCodec, catalog: SchemaCatalog) -> dict[str, Any]:
    """One trail entry: chain fields, envelope and the event's non-personal fields."""
    entry: dict[str, Any] = {
        "seq": row.seq,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "recorded_at": row.recorded_at.isoformat(),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "accepted_from": f"{row.source_topic}:{row.source_partition}:{row.source_offset}",
    }
    try:
        decoded = codec.decode(row.event)
    except CodecError as exc:
        entry["error"] = str(exc)
        return entry
    personal = set(catalog.personal_data_fields(decoded.full_name))
    record = decoded.record
    entry["envelope"] = to_json(record["envelope"])
    entry["fields"] = {
        name: WITHHELD if name in personal else to_json(value)
        for name, value in record.items()
        if name != "envelope"
    }
    return entry


def cases_view(store: AuditStore) -> list[dict[str, Any]]:
    """Every case with its entry count and newest event."""
    return [_case(summary) for summary in store.cases()]


def _case(summary: CaseSummary) -> dict[str, Any]:
    return {
        "case_id": summary.case_id,
        "entries": summary.entries,
        "last_event_type": summary.last_event_type,
        "last_recorded_at": summary.last_recorded_at.isoformat(),
    }


def to_json(value: Any) -> Any:
    """Avro values as JSON: timestamps and dates in ISO 8601, bytes in hex."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
