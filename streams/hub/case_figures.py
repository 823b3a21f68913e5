"""The worker's case counts for the metrics: the case table read at scrape time.

The table is read on the event loop, its owner (the ``/metrics`` view runs there), from the
values this worker holds; nothing of a case but its lifecycle is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from streams.domain.calendar import WorkingCalendar
from streams.domain.case_counts import CaseCounts, count_cases, last_covered_year
from streams.domain.deadlines import JAKARTA, DeadlineRule
from streams.hub.case_store import iter_cases
from streams.hub.case_table import lifecycle_of


def case_counter(
    table: Any, rules: Mapping[str, DeadlineRule], now: Callable[[], datetime] | None = None
) -> Callable[[], CaseCounts]:
    """A function counting the cases of ``table`` (a Faust table) as they are when called."""
    clock = now or (lambda: datetime.now(UTC))

    def counts() -> CaseCounts:
        lifecycles = (lifecycle_of(value) for _, value in iter_cases(table))
        return count_cases((case for case in lifecycles if case is not None), rules, clock())

    return counts


def calendar_reach(calendar: WorkingCalendar) -> Callable[[], int]:
    """A function giving the last year, from this one in Jakarta, with holiday data."""

    def year() -> int:
        return last_covered_year(calendar.covers, datetime.now(JAKARTA).year)

    return year
