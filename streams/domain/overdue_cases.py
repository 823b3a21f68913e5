"""Overdue clocks of open cases, for ops: which clock, since when, who answers for it.

The same reading of the case table as the supervisor's triage (:mod:`streams.domain.triage`):
open cases only (:func:`streams.domain.triage.is_open`), and a clock is overdue as
:func:`streams.domain.deadlines.overdue` says, breach recorded or not. A row holds the case id,
the rule, the due instant, how late and the responsible institution's id: no personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from streams.domain.calendar import WorkingCalendar
from streams.domain.deadlines import DeadlineRule, is_breached, overdue
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.responsibility import RESPONSIBLE_ROLES, clock_institution
from streams.domain.triage import is_open
from streams.domain.working_time import jakarta_day


@dataclass(frozen=True)
class OverdueClock:
    """One clock that has run out on an open case."""

    case_id: str
    rule_id: str
    due_at: datetime
    #: Whole hours since the due instant.
    late_hours: int
    #: Working days begun since the due instant (0 while it ran out on a day off or tonight).
    late_working_days: int
    #: Who answers for the clock, and its InstitutionRole; None for a rule no longer configured.
    responsible_institution: str | None
    responsible_role: str | None
    #: Whether the hub has recorded the clock's DeadlineBreached yet.
    breach_recorded: bool


def overdue_clocks(
    cases: Iterable[tuple[str, CaseLifecycle]],
    rules: dict[str, DeadlineRule],
    calendar: WorkingCalendar,
    now: datetime,
) -> list[OverdueClock]:
    """Every overdue clock of the open ``cases``, the latest first (then by case and rule)."""
    rows = [
        _row(case_id, case, clock, rules.get(str(clock["rule_id"])), calendar, now)
        for case_id, case in cases
        if is_open(case)
        for clock in overdue(case, now)
    ]
    return sorted(rows, key=lambda row: (row.due_at, row.case_id, row.rule_id))


def _row(
    case_id: str,
    case: CaseLifecycle,
    clock: dict[str, object],
    rule: DeadlineRule | None,
    calendar: WorkingCalendar,
    now: datetime,
) -> OverdueClock:
    due_at = datetime.fromisoformat(str(clock["due_at"]))
    last_day = jakarta_day(due_at - timedelta(microseconds=1))
    return OverdueClock(
        case_id=case_id,
        rule_id=str(clock["rule_id"]),
        due_at=due_at,
        late_hours=int((now - due_at).total_seconds() // 3600),
        late_working_days=calendar.elapsed(last_day, jakarta_day(now)),
        responsible_institution=(
            None if rule is None else clock_institution(case, clock, rule.responsible)
        ),
        responsible_role=None if rule is None else RESPONSIBLE_ROLES[rule.responsible],
        breach_recorded=is_breached(dict(clock)),
    )
