"""A deadline clock from start to stop: a breach leaves it overdue until the step is taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from streams.domain.calendar import load_calendar
from streams.domain.deadlines import (
    DeadlineRule,
    breach_event,
    is_breached,
    load_rules,
    overdue,
    unreported,
    update_clocks,
)
from streams.domain.lifecycle import CaseLifecycle, start
from tests.hubtools import registration, report

CALENDAR, RULES = load_calendar(), load_rules()
REPORTED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 09:00 Jakarta, a Monday
LATE = REPORTED + timedelta(days=30)


def reported() -> tuple[str, CaseLifecycle]:
    first = report()
    first["envelope"]["event_time"] = REPORTED
    case = start(first, "bkn")
    update_clocks(case, RULES, CALENDAR, "ReportReceived", first)
    return str(first["envelope"]["case_id"]), case


def breached(case_id: str, case: CaseLifecycle, rule: DeadlineRule) -> dict[str, Any]:
    """What the timer publishes for ``case``'s clock of ``rule``, applied to the case."""
    [clock] = [c for c in case.clocks if c["rule_id"] == rule.id]
    breach = breach_event(case_id, case, clock, rule, LATE)
    update_clocks(case, RULES, CALENDAR, "DeadlineBreached", breach)
    return breach


def test_a_breached_clock_stays_overdue_and_is_reported_once() -> None:
    case_id, case = reported()
    assert [c["rule_id"] for c in unreported(case, LATE)] == ["report_registration"]

    breach = breached(case_id, case, RULES["report_registration"])

    [clock] = case.clocks
    assert is_breached(clock)
    assert clock["breached_at"] == breach["breached_at"].isoformat()
    # The case still shows what it waits for; the timer has nothing more to report.
    assert overdue(case, LATE) == [clock]
    assert unreported(case, LATE) == []


def test_the_step_taken_late_stops_the_breached_clock() -> None:
    case_id, case = reported()
    breached(case_id, case, RULES["report_registration"])
    late = registration(case_id)
    late["envelope"]["event_time"] = LATE + timedelta(days=1)

    update_clocks(case, RULES, CALENDAR, "ReportRegistered", late)

    # The verification clock the registration starts runs; the breached one is gone.
    assert [c["rule_id"] for c in case.clocks] == ["report_verification"]
    assert not any(is_breached(c) for c in case.clocks)


def test_a_breach_marks_only_the_clock_it_reports() -> None:
    case_id, case = reported()
    twin = case.clocks[0] | {"caused_by": "another-event"}
    case.clocks = [*case.clocks, twin]

    breached_first = breach_event(case_id, case, case.clocks[0], RULES["report_registration"], LATE)
    update_clocks(case, RULES, CALENDAR, "DeadlineBreached", breached_first)

    assert [is_breached(c) for c in case.clocks] == [True, False]


def test_a_clock_of_a_rule_no_longer_configured_stays_and_breaks_nothing() -> None:
    case_id, case = reported()
    retired = {**RULES}
    del retired["report_registration"]
    late = registration(case_id)

    update_clocks(case, retired, CALENDAR, "ReportRegistered", late)

    # Until then an event of such a case raised KeyError: ingress refused it as internal_error.
    assert [c["rule_id"] for c in case.clocks] == ["report_registration", "report_verification"]
