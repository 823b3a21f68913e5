"""Deadline clocks started with a provisional due date: logged and counted for ops.

A year a clock runs through without holiday data counts only weekends as days off, so its due
date may come too early; ops must add the holiday data before it matters
(``kawal_provisional_deadlines_total``, KawalProvisionalClocks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from monitoring.metrics import HubMetrics
from streams.domain.calendar import WorkingCalendar
from streams.domain.deadlines import uncovered_years

log = logging.getLogger(__name__)


def report_provisional(
    metrics: HubMetrics, calendar: WorkingCalendar, case_id: str, clocks: Iterable[dict[str, Any]]
) -> None:
    """Count and log each of ``clocks`` of ``case_id`` (an opaque UUID, never personal data)."""
    for clock in clocks:
        metrics.provisional_deadline(clock["rule_id"])
        years = ", ".join(str(y) for y in uncovered_years(calendar, clock))
        log.error(
            "deadline %s of case %s has a provisional due date %s, counted on weekends "
            "only: no holiday data for %s; add that year's joint decree (SKB 3 Menteri) to "
            "the calendar overrides (KAWAL_CALENDAR_FILE) or upgrade the holidays package",
            clock["rule_id"],
            case_id,
            clock["due_at"],
            years,
        )
