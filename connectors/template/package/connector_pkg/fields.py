"""How the mapping reads one field of a record, and refuses it when the hub would.

A refusal names the field, never its value, which may be personal data: it goes to
``kawal.dlq``, into the connector's log by its line, and back to the system (``inbox/``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from connectors.base import PermanentError
from schemas.field_formats import is_nip

#: Reason code of a line that is no complete JSON record.
UNMAPPABLE = "unmappable_record"
#: Reason code of a record with a field the hub would refuse.
INVALID_FIELD = "invalid_field"
#: Reason code of a record whose time has no UTC offset (the hub's own code for it).
NAIVE_TIME = "naive_time"


def invalid(field: str, why: str, code: str = INVALID_FIELD) -> PermanentError:
    """The refusal of a record's ``field`` (named; its value never quoted)."""
    return PermanentError(code, f"field {field!r} {why}; correct the record in the system")


def text(record: dict[str, Any], field: str) -> str:
    """A non-empty string field."""
    value = record[field]
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, "is not a non-empty string")
    return value


def nip(record: dict[str, Any], field: str) -> str:
    """A civil servant's NIP, or empty: a reporter may not know it."""
    value = record[field]
    if value == "":
        return ""
    # ASCII digits only: SIASN knows no NIP in other digits.
    if not isinstance(value, str) or not is_nip(value):
        raise invalid(field, "is neither a NIP (18 digits 0-9) nor empty")
    return value


def moment(record: dict[str, Any], field: str) -> datetime:
    """An instant: an ISO 8601 date-time with its UTC offset."""
    try:
        value = datetime.fromisoformat(text(record, field))
    except ValueError:
        raise invalid(field, "is not an ISO 8601 date-time") from None
    if value.tzinfo is None:  # a wall time is no instant: which zone would it be?
        raise invalid(
            field,
            "has no UTC offset; send it with its offset, e.g. 2024-11-01T09:30:00+07:00",
            NAIVE_TIME,
        )
    return value


def day(record: dict[str, Any], field: str) -> date:
    """A calendar day: an ISO 8601 date."""
    try:
        return date.fromisoformat(text(record, field))
    except ValueError:
        raise invalid(field, "is not an ISO 8601 date (2024-12-02)") from None
