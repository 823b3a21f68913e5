"""Handling time in working days (Jakarta days, the project's calendar) and its percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from streams.domain.calendar import Overrides, WorkingCalendar, load_calendar
from streams.domain.working_time import (
    median,
    percentile_90,
    working_days_between,
    working_days_left,
)

WIB = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        # The same day is 0; Friday to Monday is 1.
        (datetime(2024, 11, 4, 8, tzinfo=WIB), datetime(2024, 11, 4, 16, tzinfo=WIB), 0),
        (datetime(2024, 11, 1, 8, tzinfo=WIB), datetime(2024, 11, 4, 8, tzinfo=WIB), 1),
        # Idul Fitri 2024 and its cuti bersama: Friday 5 April to Tuesday 16 April is 1.
        (datetime(2024, 4, 5, 8, tzinfo=WIB), datetime(2024, 4, 16, 8, tzinfo=WIB), 1),
        # The regional election day, 27 November 2024, is off.
        (datetime(2024, 11, 26, 8, tzinfo=WIB), datetime(2024, 11, 28, 8, tzinfo=WIB), 1),
        # 18:00 UTC is 01:00 the next day in Jakarta: Tuesday 24 December 18:00 UTC is Christmas.
        (datetime(2024, 12, 23, 8, tzinfo=WIB), datetime(2024, 12, 24, 18, tzinfo=UTC), 1),
        # Back-dated: an end before its start counts 0.
        (datetime(2024, 11, 8, 8, tzinfo=WIB), datetime(2024, 11, 4, 8, tzinfo=WIB), 0),
    ],
)
def test_working_days_between_instants(start: datetime, end: datetime, days: int) -> None:
    span = working_days_between(load_calendar(), start, end)

    assert (span.working_days, span.provisional) == (days, False)


def test_a_span_through_a_year_without_holiday_data_is_provisional() -> None:
    calendar = WorkingCalendar(Overrides())
    start = datetime(2031, 1, 6, 8, tzinfo=WIB)

    span = working_days_between(calendar, start, start + timedelta(days=7))

    assert (span.working_days, span.provisional) == (5, True)


@pytest.mark.parametrize(
    ("values", "middle", "p90"),
    [
        ([], None, None),
        ([4], 4.0, 4),
        ([3, 1], 2.0, 3),
        ([5, 1, 3], 3.0, 5),
        (list(range(1, 11)), 5.5, 9),
        (list(range(1, 12)), 6.0, 10),
        (list(range(1, 21)), 10.5, 18),
        (list(range(1, 101)), 50.5, 90),
    ],
)
def test_median_and_90th_percentile_by_nearest_rank(
    values: list[int], middle: float | None, p90: int | None
) -> None:
    assert (median(values), percentile_90(values)) == (middle, p90)


#: A clock started on Sunday 6 December 2026 for 14 working days: its last day is Monday 28
#: December (24 December is cuti bersama, 25 December Christmas), due at midnight WIB after it.
DUE_28_DECEMBER = datetime(2026, 12, 28, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (datetime(2026, 12, 6, 11, tzinfo=UTC), 14),  # the Sunday it started
        (datetime(2026, 12, 23, 3, tzinfo=UTC), 2),  # the 23rd and the 28th
        (datetime(2026, 12, 24, 3, tzinfo=UTC), 1),  # cuti bersama: only the 28th
        (datetime(2026, 12, 28, 16, 59, tzinfo=UTC), 1),  # 23:59 WIB on the last day
        (datetime(2026, 12, 28, 17, tzinfo=UTC), 0),  # due
    ],
)
def test_working_days_left_count_today_and_the_last_working_day(now: datetime, left: int) -> None:
    assert working_days_left(load_calendar(), DUE_28_DECEMBER, now) == left
