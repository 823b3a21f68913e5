"""A deadline clock from start to stop: a breach leaves it overdue until the step is taken."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from streams.domain.calendar import load_calendar
from streams.domain.deadlines import (
    HISTORY_GRACE,
    DeadlineRule,
    breach_event,
    is_breached,
    is_met,
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


#: A backlog imported years later: reported Monday 4 December 2023, registered on the Wednesday
#: (the third working day, in time), both recorded by the hub on IMPORTED.
HISTORY = datetime(2023, 12, 4, 2, 0, tzinfo=UTC)
IMPORTED = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)


def imported_report() -> tuple[str, CaseLifecycle]:
    first = report()
    first["envelope"]["event_time"] = HISTORY
    case = start(first, "bkn")
    update_clocks(case, RULES, CALENDAR, "ReportReceived", first, IMPORTED)
    return str(first["envelope"]["case_id"]), case


def imported_registration(case_id: str, case: CaseLifecycle, days: int) -> None:
    registered = registration(case_id)
    registered["envelope"]["event_time"] = HISTORY + timedelta(days=days)
    update_clocks(
        case, RULES, CALENDAR, "ReportRegistered", registered, IMPORTED + timedelta(seconds=1)
    )


def test_history_taken_in_time_by_its_senders_own_times_is_no_breach() -> None:
    case_id, case = imported_report()
    # Run out three years ago: the timer leaves it while the rest of the import comes.
    assert unreported(case, IMPORTED + timedelta(minutes=5)) == []

    imported_registration(case_id, case, days=2)

    # Registered in time: the registration clock is gone, the verification one (imported
    # history too) waits for its own event; nothing is a breach while the import goes on.
    assert [c["rule_id"] for c in case.clocks] == ["report_verification"]
    assert unreported(case, IMPORTED + timedelta(hours=1)) == []


def test_history_never_taken_is_reported_once_its_grace_is_over() -> None:
    _, case = imported_report()

    assert unreported(case, IMPORTED + HISTORY_GRACE - timedelta(seconds=1)) == []
    assert [c["rule_id"] for c in unreported(case, IMPORTED + HISTORY_GRACE)] == [
        "report_registration"
    ]


def test_history_taken_late_is_met_late_at_the_time_its_sender_signed() -> None:
    case_id, case = imported_report()

    imported_registration(case_id, case, days=9)

    [late] = [c for c in case.clocks if c["rule_id"] == "report_registration"]
    assert is_met(late)
    assert late["met_at"] == (HISTORY + timedelta(days=9)).isoformat()


def test_a_live_clock_is_not_history() -> None:
    first = report()
    first["envelope"]["event_time"] = REPORTED
    case = start(first, "bkn")

    update_clocks(case, RULES, CALENDAR, "ReportReceived", first, REPORTED)

    [clock] = case.clocks
    assert "history_from" not in clock
    assert clock["own_by"] == "bawaslu.33"
    assert [c["rule_id"] for c in unreported(case, LATE)] == ["report_registration"]


def test_the_grace_of_history_is_the_one_given() -> None:
    # KAWAL_HISTORY_GRACE_SECONDS: 30 s in the demo, whose history comes whole in seconds.
    _, case = imported_report()
    grace = timedelta(seconds=30)

    assert unreported(case, IMPORTED + timedelta(seconds=29), grace) == []
    assert len(unreported(case, IMPORTED + grace, grace)) == 1
