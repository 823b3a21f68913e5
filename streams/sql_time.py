"""A column type for moments: stored in UTC, read back with their zone on every database.

SQLite keeps no time zone: SQLAlchemy writes an aware datetime's wall time and reads it back
naive, so a trail's ``recorded_at`` left the API as ``2026-12-05T16:55:31.536000``, which RFC
3339 (and the OpenAPI ``date-time`` format) does not allow, while PostgreSQL's
``timestamptz`` gave ``+00:00``. :class:`UtcDateTime` converts to UTC before writing, so
SQLite's wall time is UTC, and returns aware UTC datetimes from both.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def as_utc(moment: datetime, zone: tzinfo = UTC) -> datetime:
    """``moment`` in UTC; a naive one is in ``zone`` (UTC, as SQLite returns the hub's)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)).astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always holds and gives aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value in UTC, before it is written or compared."""
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """The stored value as an aware UTC datetime."""
        return None if value is None else as_utc(value)
