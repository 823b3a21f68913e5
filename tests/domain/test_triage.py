"""The supervisor's triage: which open reports, in which order, how old."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.catalog import default_catalog
from streams.domain.authority import load_authority_map
from streams.domain.calendar import load_calendar
from streams.domain.institutions import load_institutions
from streams.domain.lifecycle import CaseLifecycle, Phase, start
from streams.domain.severity import load_severity
from streams.domain.triage import supervised_by, triage
from tests.hubtools import report

SEVERITY = load_severity(default_catalog().schema("kawal.ViolationCategory")["symbols"])
CALENDAR = load_calendar()
#: Tuesday 29 December 2026, 10:00 WIB.
NOW = datetime(2026, 12, 29, 3, 0, tzinfo=UTC)


def case(
    violation: str,
    reported: datetime,
    phase: Phase = Phase.REGISTERED,
    due: datetime | None = None,
    source: str = "bawaslu.33",
    region: str = "3374",
) -> CaseLifecycle:
    record = report(source) | {"violation": violation, "region_code": region}
    found = start(record, "bkn")
    found.phase = phase
    found.reported_at = reported.isoformat()
    if due is not None:
        found.clocks = [{"rule_id": "report_verification", "due_at": due.isoformat()}]
    return found


def test_most_serious_first_then_nearest_deadline_then_oldest() -> None:
    week_ago, day = NOW - timedelta(days=7), timedelta(days=1)
    cases = {
        "ethics-old": case("ETHICS_BANNER", NOW - 30 * day),
        "heavy-late": case("DISCIPLINE_USE_OF_OFFICE_FACILITIES", week_ago, due=NOW + 5 * day),
        "heavy-soon": case("DISCIPLINE_SUPPORT_BY_GIFTS", week_ago, due=NOW + day),
        "medium-overdue": case("DISCIPLINE_MOBILIZING_CIVIL_SERVANTS", week_ago, due=NOW - day),
        "medium-older": case("DISCIPLINE_CAMPAIGN_PARTICIPATION", NOW - 20 * day),
        "medium-newer": case("DISCIPLINE_CAMPAIGN_PARTICIPATION", NOW - 2 * day),
    }

    rows = triage(cases.items(), SEVERITY, CALENDAR, NOW)

    assert [row.case_id for row in rows] == [
        "heavy-soon", "heavy-late", "medium-overdue", "medium-older", "medium-newer", "ethics-old"
    ]  # fmt: skip
    assert [row.severity for row in rows] == [
        "heavy",
        "heavy",
        "medium",
        "medium",
        "medium",
        "ethics",
    ]
    overdue = {row.case_id for row in rows if row.overdue}
    assert overdue == {"medium-overdue"}
    assert rows[0].next_rule == "report_verification"
    assert rows[3].next_rule is None


@pytest.mark.parametrize(
    "phase", [Phase.REJECTED, Phase.NOT_PROVEN, Phase.NOT_RECOMMENDED, Phase.CLOSED]
)
def test_settled_reports_are_not_open(phase: Phase) -> None:
    rows = triage([("c", case("ETHICS_BANNER", NOW, phase))], SEVERITY, CALENDAR, NOW)

    assert rows == []


def test_age_counts_working_days_across_christmas_and_cuti_bersama() -> None:
    # Reported Wednesday 23 December; 24 (cuti bersama), 25 (Christmas), 26-27 (weekend) are off.
    assert CALENDAR.day_off(date(2026, 12, 24)) is not None
    assert CALENDAR.day_off(date(2026, 12, 25)) is not None
    reported = datetime(2026, 12, 23, 2, 0, tzinfo=UTC)

    [row] = triage([("c", case("ETHICS_BANNER", reported))], SEVERITY, CALENDAR, NOW)

    assert row.reported_on == date(2026, 12, 23)
    assert row.age_working_days == 2  # Monday 28 and Tuesday 29


def test_the_report_day_is_the_region_day() -> None:
    # 16:30 UTC on 22 December is 01:30 on the 23rd in Papua (WIT), 23:30 on the 22nd in Java.
    reported = datetime(2026, 12, 22, 16, 30, tzinfo=UTC)
    papua = case("ETHICS_BANNER", reported, region="9171")
    java = case("ETHICS_BANNER", reported, region="3374")

    rows = {r.region: r for r in triage([("p", papua), ("j", java)], SEVERITY, CALENDAR, NOW)}

    assert rows["9171"].reported_on == date(2026, 12, 23)
    assert rows["3374"].reported_on == date(2026, 12, 22)
    assert (rows["3374"].age_working_days, rows["9171"].age_working_days) == (3, 2)


def test_elapsed_is_the_inverse_of_count() -> None:
    start_day = date(2026, 12, 18)
    for days in range(0, 25):
        assert CALENDAR.elapsed(start_day, CALENDAR.count(start_day, days).last_day) == days


def test_a_supervisor_sees_the_reports_it_supervises() -> None:
    institutions = {inst.id: inst for inst in load_institutions()}
    authority = load_authority_map()
    own = case("ETHICS_BANNER", NOW, source="bawaslu.33")
    national = case("ETHICS_BANNER", NOW, source="bawaslu")

    regional = supervised_by(institutions["bawaslu.33"], authority)
    everyone = supervised_by(institutions["bawaslu"], authority)
    ppk = supervised_by(institutions["ppk.3374"], authority)

    assert (regional(own), regional(national)) == (True, False)
    assert (everyone(own), everyone(national)) == (True, True)
    assert (ppk(own), ppk(national)) == (False, False)
