"""The supervisor's triage: open reports by severity, age in working days, next deadline.

A projection of the case table (:mod:`streams.domain.lifecycle`), never of personal data: a row
holds the case id, its violation category and severity, region, phase, how many working days
the report has waited and the next clock to run out. Most serious first; within a severity the
next deadline first (an overdue one before all), then the oldest report. A supervisor sees the
cases it is party to as supervisor (:func:`streams.domain.parties.case_roles`); an operator
sees every case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from streams.domain.authority import AuthorityMap
from streams.domain.calendar import WorkingCalendar
from streams.domain.deadlines import overdue, waiting
from streams.domain.institutions import Institution
from streams.domain.lifecycle import CaseLifecycle, Phase
from streams.domain.parties import CaseParties, case_roles
from streams.domain.severity import SeverityTable
from streams.domain.zones import RegionError, zone_of

#: Sorts reports with no running clock after every deadline.
_NO_DEADLINE = datetime.max.replace(tzinfo=UTC)
#: Phases in which a report is no longer waiting for anyone's handling.
SETTLED = frozenset({Phase.REJECTED, Phase.NOT_PROVEN, Phase.NOT_RECOMMENDED, Phase.CLOSED})
SUPERVISOR = "election_supervisor"


@dataclass(frozen=True)
class TriageRow:
    """One open report."""

    case_id: str
    severity: str
    rank: int
    violation: str
    region: str
    phase: str
    reported_on: date
    age_working_days: int
    #: The clock that runs out first: its rule id and due time, or None.
    next_rule: str | None
    next_due: datetime | None
    overdue: bool


def triage(
    cases: Iterable[tuple[str, CaseLifecycle]],
    severity: SeverityTable,
    calendar: WorkingCalendar,
    now: datetime,
) -> list[TriageRow]:
    """The open reports among ``cases``, most urgent first."""
    rows = [_row(case_id, case, severity, calendar, now) for case_id, case in cases]
    return sorted(
        (row for row in rows if row is not None),
        key=lambda row: (
            row.rank,
            row.next_due or _NO_DEADLINE,
            -row.age_working_days,
            row.case_id,
        ),
    )


def supervised_by(
    institution: Institution, authority_map: AuthorityMap
) -> Callable[[CaseLifecycle], bool]:
    """A filter keeping the cases ``institution`` is party to as election supervisor."""

    def keep(case: CaseLifecycle) -> bool:
        parties = CaseParties(
            authority=authority_map.authority_on(datetime.fromisoformat(case.reported_at)),
            reporter=case.reporter,
            employing_agency=case.employing_agency,
            region_code=case.region_code,
        )
        roles = case_roles(institution, parties)
        return roles is not None and SUPERVISOR in roles

    return keep


def _row(
    case_id: str,
    case: CaseLifecycle,
    severity: SeverityTable,
    calendar: WorkingCalendar,
    now: datetime,
) -> TriageRow | None:
    if not is_open(case):
        return None
    zone = _zone(case.region_code)
    reported_on = datetime.fromisoformat(case.reported_at).astimezone(zone).date()
    dues = sorted(
        (datetime.fromisoformat(str(c["due_at"])), str(c["rule_id"])) for c in waiting(case)
    )
    due, rule = dues[0] if dues else (None, None)
    return TriageRow(
        case_id=case_id,
        severity=severity.level_of(case.violation),
        rank=severity.rank_of(case.violation),
        violation=case.violation,
        region=case.region_code,
        phase=case.phase.value,
        reported_on=reported_on,
        age_working_days=calendar.elapsed(reported_on, now.astimezone(zone).date()),
        next_rule=rule,
        next_due=due,
        overdue=bool(overdue(case, now)),
    )


def is_open(case: CaseLifecycle) -> bool:
    """Whether ``case`` still waits for someone's handling (not settled, not erased)."""
    return case.phase not in SETTLED and case.erased_at is None


def _zone(region_code: str) -> ZoneInfo:
    try:
        return zone_of(region_code)
    except RegionError:
        return zone_of(None)
