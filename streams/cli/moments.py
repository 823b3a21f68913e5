"""Reading moments given on the command line: a date, or a date-time with its UTC offset.

A date (``2027-01-01``) stands for 00:00 UTC that day, for every command that takes a moment
(``token issue --expires``, ``keys new --valid-from``/``--valid-until``): the hub's validity
dates and expiries are UTC, and a bare date must not mean another moment on an institution's
laptop than on the hub.
"""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.field_formats import calendar_day

#: How a date-time given on the command line is spelt, for help and error texts.
MOMENT_FORMS = (
    "a date (2027-01-01: 00:00 UTC) or a date-time with its offset (2027-01-01T07:00+07:00)"
)


def aware_moment(text: str) -> datetime | None:
    """``text`` as an ISO 8601 date-time with its offset, or None if it is not one.

    A moment without an offset would be read in the machine's zone, which differs between an
    institution's laptop and the hub; so it is refused, not guessed.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def day_or_moment(text: str) -> datetime | None:
    """``text`` as a date (00:00 UTC that day) or a date-time with its offset; else None."""
    if len(text) == len("2027-01-01"):
        day = calendar_day(text)
        return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)
    return aware_moment(text)
