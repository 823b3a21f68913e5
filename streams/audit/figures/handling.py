"""Handling time per stage and end to end, in working days: median and 90th percentile.

A stage runs from one milestone of a case (:mod:`streams.audit.figures.facts`) to the next; its
handling time is :func:`streams.domain.working_time.working_days_between` of the two, on the
project's working-day calendar. Only cases that reached both milestones count: a stage still
open is on the deadline clocks, not here.
"""

from __future__ import annotations

from typing import Any

from streams.audit.figures.facts import CaseFacts
from streams.domain.calendar import WorkingCalendar
from streams.domain.working_time import median, percentile_90, working_days_between

#: Stage id -> (from milestone, to milestone), in the order of the lifecycle; last end to end.
STAGES: dict[str, tuple[str, str]] = {
    "registration": ("received", "registered"),
    "verification": ("registered", "verified"),
    "recommendation": ("verified", "recommended"),
    "follow_up": ("recommended", "followed_up"),
    "end_to_end": ("received", "followed_up"),
}


def handling_times(cases: list[CaseFacts], calendar: WorkingCalendar) -> list[dict[str, Any]]:
    """One row per stage of :data:`STAGES`.

    Returns:
        Rows with ``stage``, ``from`` and ``to`` (milestones), ``cases`` (how many reached
        both), ``median_working_days``, ``p90_working_days`` (None without cases) and
        ``provisional`` (how many were counted through a year without holiday data).
    """
    rows = []
    for stage, (start, end) in STAGES.items():
        spans = [
            working_days_between(calendar, case.times[start], case.times[end])
            for case in cases
            if start in case.times and end in case.times
        ]
        days = [span.working_days for span in spans]
        rows.append(
            {
                "stage": stage,
                "from": start,
                "to": end,
                "cases": len(days),
                "median_working_days": median(days),
                "p90_working_days": percentile_90(days),
                "provisional": sum(span.provisional for span in spans),
            }
        )
    return rows
