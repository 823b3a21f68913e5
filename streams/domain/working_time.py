"""Handling time in working days between two instants, and its median and 90th percentile.

The day of an instant is its day in Jakarta time (WIB), where the deadline clocks
(:mod:`streams.domain.deadlines`) also count, so a handling time and a deadline agree on what a
day is. The handling time from ``start`` to ``end`` is the number of working days after the day
of ``start`` up to and including the day of ``end``
(:class:`~streams.domain.calendar.WorkingCalendar`): the same day is 0, Friday to the next
Monday is 1, and a week with a two-day holiday in it is 3. An ``end`` dated before its ``start``
(a back-dated event) counts 0 rather than a negative time.

Pure domain code: no Faust, Kafka, SQL or metrics here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from streams.domain.calendar import WorkingCalendar
from streams.domain.deadlines import JAKARTA


@dataclass(frozen=True)
class Span:
    """Working days between two instants, and whether a year of it lacks holiday data."""

    working_days: int
    #: Counted through a year the calendar has no holiday data for (weekends only).
    provisional: bool


def jakarta_day(moment: datetime) -> date:
    """The day of an aware ``moment`` in Jakarta time (WIB)."""
    return moment.astimezone(JAKARTA).date()


def working_days_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> Span:
    """Working days after ``start``'s Jakarta day up to and including ``end``'s (see module)."""
    return _span(calendar, jakarta_day(start), jakarta_day(end))


def working_days_left(calendar: WorkingCalendar, due_at: datetime, now: datetime) -> int:
    """Working days from ``now``'s Jakarta day up to the last one a clock due at ``due_at`` gives.

    A clock is due at midnight (WIB) after its last working day, so today counts while it is a
    working day: a clock started on a Sunday for 14 working days has 14 left that Sunday, and a
    clock due tonight has 1 left today. 0 once ``due_at`` has passed.
    """
    if due_at <= now:
        return 0
    last_day = jakarta_day(due_at - timedelta(microseconds=1))
    return calendar.elapsed(jakarta_day(now) - timedelta(days=1), last_day)


# Handling times cluster on few pairs of days: counting each pair once took the dashboard's
# figures for 2,034 cases (about 5,000 spans) from about 180 to 60 ms. A calendar never
# changes once built, so a cached span never goes stale.
@functools.lru_cache(maxsize=65536)
def _span(calendar: WorkingCalendar, first: date, last: date) -> Span:
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    years = range(first.year, max(first, last).year + 1)
    return Span(count, any(not calendar.covers(year) for year in years))


def median(values: Sequence[int]) -> float | None:
    """The median: the middle value, or the mean of the two middle ones; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile_90(values: Sequence[int]) -> int | None:
    """The 90th percentile by nearest rank: the smallest value that at least 90% do not exceed.

    With fewer than ten values that is the largest one; None when empty.
    """
    if not values:
        return None
    ordered = sorted(values)
    # ceil(9n / 10) in integers: in floats 0.9 * 10 is 9.000000000000002, whose ceiling is 10.
    rank = -(-len(ordered) * 9 // 10)
    return ordered[rank - 1]
