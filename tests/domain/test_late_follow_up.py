"""A follow-up that came after its due date, before the timer looked, is still a breach.

The deadline timer looks every ``KAWAL_DEADLINE_CHECK_SECONDS``, and not while the worker is
down. A sanction recorded after the follow-up clock ran out, before the timer looked, keeps
the clock met late: it runs no more, but its DeadlineBreached, saying when the sanction came
(``met_at``), is still reported, and only that breach removes it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.catalog import default_catalog
from streams.domain.calendar import load_calendar
from streams.domain.case_counts import count_cases, recommendation_state
from streams.domain.deadlines import (
    breach_event,
    is_met,
    load_rules,
    overdue,
    unreported,
    update_clocks,
    waiting,
)
from streams.domain.lifecycle import CaseLifecycle, advance, check_transition
from streams.domain.reasons import Reason
from streams.domain.severity import load_severity
from streams.domain.triage import triage
from tests.disclosure_case import closed
from tests.domain.referred_cases import referred
from tests.hubtools import recommendation, sanction

CALENDAR, RULES = load_calendar(), load_rules()
FOLLOW_UP = RULES["recommendation_follow_up"]
#: Monday 11 November 2024, 10:00 Jakarta: 14 working days (27 November a holiday) run out
#: at midnight Jakarta time after Monday 2 December.
ISSUED = datetime(2024, 11, 11, 3, tzinfo=UTC)
DUE = datetime(2024, 12, 2, 17, tzinfo=UTC)
SEVERITY = load_severity(default_catalog().schema("kawal.ViolationCategory")["symbols"])


def recommended() -> tuple[CaseLifecycle, str]:
    """A case whose follow-up clock started at ``ISSUED``; its id."""
    case, case_id = referred()
    case.clocks = []
    issued = recommendation(case_id)
    issued["envelope"]["event_time"] = ISSUED
    case = advance(case, "RecommendationIssued", issued)
    update_clocks(case, RULES, CALENDAR, "RecommendationIssued", issued, ISSUED)
    [clock] = case.clocks
    assert datetime.fromisoformat(clock["due_at"]) == DUE
    return case, case_id


def sanctioned(case: CaseLifecycle, case_id: str, recorded_at: datetime) -> CaseLifecycle:
    decree = sanction(case_id)
    decree["envelope"]["event_time"] = recorded_at
    case = advance(case, "SanctionImposed", decree)
    update_clocks(case, RULES, CALENDAR, "SanctionImposed", decree, recorded_at)
    return case


def breach_of(case_id: str, case: CaseLifecycle, now: datetime) -> dict[str, Any]:
    [clock] = unreported(case, now)
    return breach_event(case_id, case, clock, FOLLOW_UP, now)


def test_a_sanction_recorded_after_the_due_date_keeps_the_clock_met_late() -> None:
    case, case_id = recommended()
    in_time, in_time_id = recommended()
    late = DUE + timedelta(days=3)

    case = sanctioned(case, case_id, late)
    in_time = sanctioned(in_time, in_time_id, DUE - timedelta(days=1))

    [clock] = case.clocks
    assert clock["met_at"] == late.isoformat()
    assert is_met(clock)
    # The timer still has its breach to report, though the clock waits for nothing.
    assert unreported(case, late) == [clock]
    assert waiting(case) == []
    assert overdue(case, late) == []
    # A sanction in time stops the clock: no breach, ever.
    assert in_time.clocks == []
    assert unreported(in_time, DUE + timedelta(days=30)) == []


def test_the_breach_of_a_clock_met_late_says_when_the_sanction_came_and_removes_it() -> None:
    case, case_id = recommended()
    late = DUE + timedelta(days=3)
    case = sanctioned(case, case_id, late)
    looked = late + timedelta(minutes=1)

    breach = breach_of(case_id, case, looked)

    assert breach["met_at"] == late
    assert breach["due_at"] == DUE
    assert check_transition(case, "DeadlineBreached", breach) is None
    case = advance(case, "DeadlineBreached", breach)
    update_clocks(case, RULES, CALENDAR, "DeadlineBreached", breach, looked)
    assert case.clocks == []
    # The case was followed up, late: nothing to block, nothing more to report.
    assert recommendation_state(case) == "followed_up"
    assert unreported(case, looked + timedelta(days=1)) == []


def test_a_breach_of_a_clock_still_waiting_has_no_met_at() -> None:
    case, case_id = recommended()

    breach = breach_of(case_id, case, DUE + timedelta(days=1))

    assert breach["met_at"] is None


def test_a_closing_after_the_sanction_keeps_the_clock_met_late_for_its_breach() -> None:
    case, case_id = recommended()
    late = DUE + timedelta(days=3)
    case = sanctioned(case, case_id, late)
    event_type, closing = closed(case_id)
    closing["envelope"]["event_time"] = late + timedelta(hours=1)
    case = advance(case, event_type, closing)
    update_clocks(case, RULES, CALENDAR, event_type, closing, late + timedelta(hours=1))

    [clock] = case.clocks
    assert clock["met_at"] == late.isoformat()
    # The closed case takes the breach of the clock it met late, and only that one.
    breach = breach_of(case_id, case, late + timedelta(hours=2))
    assert check_transition(case, "DeadlineBreached", breach) is None
    other = breach | {"caused_by_event_id": "9b1b4a52-6c1e-4c57-9d1c-1f1f2b0a7e11"}
    rejection = check_transition(case, "DeadlineBreached", other)
    assert rejection is not None
    assert rejection.reason is Reason.CASE_CLOSED


def test_a_clock_met_late_is_counted_neither_running_nor_overdue() -> None:
    case, case_id = recommended()
    late = DUE + timedelta(days=3)
    case = sanctioned(case, case_id, late)
    role = "PPK"

    counts = count_cases([case], RULES, late)

    assert unreported(case, late) != []
    for state in ("running", "overdue", "breached"):
        assert counts.clocks[FOLLOW_UP.id, role, state] == 0, state


def test_a_clock_met_late_is_no_next_deadline_of_a_case() -> None:
    case, case_id = recommended()
    case = sanctioned(case, case_id, DUE + timedelta(days=3))

    [row] = triage([(case_id, case)], SEVERITY, CALENDAR, DUE + timedelta(days=4))

    assert unreported(case, DUE + timedelta(days=4)) != []
    assert (row.next_rule, row.next_due, row.overdue) == (None, None, False)


def test_a_clock_met_late_of_a_rule_no_longer_configured_is_counted_untracked() -> None:
    case, case_id = recommended()
    late = DUE + timedelta(days=3)
    case = sanctioned(case, case_id, late)
    retired = {rule_id: rule for rule_id, rule in RULES.items() if rule_id != FOLLOW_UP.id}

    counts = count_cases([case], retired, late)

    # No timer will report its breach: ops sees it, as any clock of a retired rule.
    assert counts.clocks[FOLLOW_UP.id, "UNKNOWN", "untracked"] == 1


def test_a_sanction_dated_in_time_but_recorded_late_is_met_late_when_recorded() -> None:
    # The PPK answers for a clock the authority started: the hub's time judges it, not the
    # time the PPK signs, which it could date back.
    case, case_id = recommended()
    late = DUE + timedelta(days=3)
    decree = sanction(case_id)
    decree["envelope"]["event_time"] = DUE - timedelta(days=1)
    case = advance(case, "SanctionImposed", decree)

    update_clocks(case, RULES, CALENDAR, "SanctionImposed", decree, late)

    [clock] = case.clocks
    assert clock["met_at"] == late.isoformat()
    assert "own_by" not in clock
