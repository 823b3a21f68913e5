"""The period an access-log listing covers: ``--from``/``--to``, ``?from=``/``?to=``.

A data protection officer exports the record of processing for an audit period, so the log is
read between two moments. Each end is a date (``2026-12-01``, a whole UTC day: ``from`` starts
at its 00:00, ``to`` takes in the whole day) or a date-time with its offset
(``2026-12-01T08:00+07:00``). A value of another form is refused, saying what to write, rather
than ignored: a listing silently covering more than asked would mislead an audit.

Example:
    >>> period = read_period("2026-12-01", "2026-12-01")
    >>> period.start.isoformat(), period.end.isoformat()
    ('2026-12-01T00:00:00+00:00', '2026-12-02T00:00:00+00:00')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from schemas.errors import KawalError

#: How an end of the period is written, for help and error texts.
PERIOD_FORMS = (
    "a date (2026-12-01, a whole UTC day) or a date-time with its offset (2026-12-01T08:00+07:00)"
)


class ReadPeriodError(KawalError):
    """An end of the period is of another form, or the period ends before it starts."""


@dataclass(frozen=True)
class ReadPeriod:
    """Reads at or after ``start`` and before ``end``; None leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None


def read_period(start: str | None, end: str | None) -> ReadPeriod:
    """The period from ``start`` to ``end`` (either may be None: open on that side).

    Raises:
        ReadPeriodError: an end is of another form, or the period ends before it starts.
    """
    period = ReadPeriod(
        None if start is None else _moment(start, "from", whole_day=False),
        None if end is None else _moment(end, "to", whole_day=True),
    )
    if period.start is not None and period.end is not None and period.end <= period.start:
        raise ReadPeriodError(
            f"the period ends ({end}) before it starts ({start}); give 'to' a later moment"
        )
    return period


def _moment(text: str, name: str, whole_day: bool) -> datetime:
    text = text.strip()
    if len(text) == len("2026-12-01"):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise _refused(text, name) from None
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        # A whole day for 'to': reads before 00:00 UTC of the day after.
        return moment + timedelta(days=1) if whole_day else moment
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _refused(text, name) from None
    if moment.utcoffset() is None:
        # Without an offset the moment would mean another instant on each machine.
        raise _refused(text, name)
    return moment


def _refused(text: str, name: str) -> ReadPeriodError:
    shown = text if len(text) <= 40 else text[:40] + "…"
    # In an address an unescaped + arrives as a space, and 09:00+07:00 as 09:00 07:00.
    hint = "; in an address write + as %2B, or end a UTC moment in Z" if " " in text else ""
    return ReadPeriodError(f"{name} {shown!r} is not {PERIOD_FORMS}{hint}")
