"""Handling time in working days (Jakarta days, the project's calendar) and its percentiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from streams.domain.calendar import Overrides, WorkingCalendar, load_calendar
from streams.domain.working_time import median, percentile_90, working_days_between

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
