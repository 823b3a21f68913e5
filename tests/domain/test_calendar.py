"""The working-day calendar: package days, overrides, provisional years and clocks on it."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.domain.calendar import (
    MAX_WORKING_DAYS,
    CalendarError,
    DayKind,
    Override,
    Overrides,
    load_calendar,
    package_covers,
    read_overrides,
)
from streams.domain.deadlines import (
    DeadlineRulesError,
    explain_due,
    is_provisional,
    load_rules,
    provisional_clocks,
    uncovered_years,
    update_clocks,
)
from streams.domain.lifecycle import CaseLifecycle, start
from tests.hubtools import recommendation, report

DATA = Path(__file__).parents[1] / "data"
#: The shipped calendar with a weekday made a day off and a holiday made a working day.
OVERRIDDEN = load_calendar(DATA / "calendar_overrides.toml")
#: Far beyond every source: no package release will have its joint decree for decades.
UNCOVERED_YEAR = 2099


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "overrides.toml"
    path.write_text(text, encoding="utf-8")
    return path


def override(day: str, *, off: bool, name: str = "test day", source: str = "SKB test") -> str:
    flag = "true" if off else "false"
    return f'[[override]]\ndate = {day}\noff = {flag}\nname = "{name}"\nsource = "{source}"\n'


# --- the package's days -------------------------------------------------------------------


def test_package_gives_holidays_and_cuti_bersama_of_2026_and_2027() -> None:
    calendar = load_calendar()

    christmas_leave = calendar.day_off(date(2026, 12, 24))
    new_year = calendar.day_off(date(2027, 1, 1))
    eid_leave = calendar.day_off(date(2027, 3, 9))

    assert christmas_leave is not None
    assert christmas_leave.kind is DayKind.CUTI_BERSAMA
    assert christmas_leave.name == "Cuti Bersama Hari Raya Natal"
    assert christmas_leave.source.startswith("holidays ")
    assert new_year is not None
    assert new_year.kind is DayKind.HOLIDAY
    assert eid_leave is not None
    assert eid_leave.kind is DayKind.CUTI_BERSAMA
    assert calendar.is_working_day(date(2026, 12, 23))
    assert not calendar.is_working_day(date(2026, 12, 26))  # a Saturday


def test_package_covers_the_years_with_a_joint_decree_and_no_later() -> None:
    assert [year for year in range(2023, 2029) if package_covers(year)] == [
        2023,
        2024,
        2025,
        2026,
        2027,
    ]
    assert not package_covers(UNCOVERED_YEAR)


def test_package_weekdays_off_match_the_lists_of_2023_to_2026_it_replaces() -> None:
    # The lists the bundled file held before the package (one SKB 3 Menteri per year): no
    # weekday differs, so the bundled overrides hold no correction for those years.
    old = tomllib.loads((DATA / "calendar_2023_2026.toml").read_text())["years"]
    calendar = load_calendar()

    for year, days in old.items():
        listed = {day for day in days if day.weekday() < 5}
        year_days = [date.fromordinal(n) for n in range(*_ordinals(int(year)))]
        off = {day for day in year_days if day.weekday() < 5 and calendar.day_off(day)}
        assert off == listed, year


def _ordinals(year: int) -> tuple[int, int]:
    return date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()


def test_counting_across_the_new_year_skips_both_years_days_off() -> None:
    counted = load_calendar().count(date(2026, 12, 21), 14)

    assert counted.last_day == date(2027, 1, 14)
    assert not counted.provisional
    assert [(off.day, off.kind) for off in counted.skipped if off.kind != DayKind.WEEKEND] == [
        (date(2026, 12, 24), DayKind.CUTI_BERSAMA),
        (date(2026, 12, 25), DayKind.HOLIDAY),
        (date(2027, 1, 1), DayKind.HOLIDAY),
        (date(2027, 1, 5), DayKind.HOLIDAY),
    ]


@pytest.mark.parametrize("days", [-3, MAX_WORKING_DAYS + 1])
def test_a_count_outside_the_counted_span_is_refused_before_counting(days: int) -> None:
    with pytest.raises(CalendarError, match=f"0 to {MAX_WORKING_DAYS} working days, not {days}"):
        load_calendar().count(date(2026, 12, 21), days)


def test_the_longest_clock_is_counted() -> None:
    counted = load_calendar().count(date(2026, 12, 21), MAX_WORKING_DAYS)

    assert date(2036, 1, 1) < counted.last_day < date(2038, 1, 1)
    assert counted.provisional


def test_a_count_past_the_last_date_is_an_error_not_an_overflow() -> None:
    with pytest.raises(CalendarError, match="run past 9999-12-31"):
        load_calendar().count(date(9999, 12, 28), 5)


@pytest.mark.parametrize("days", [0, MAX_WORKING_DAYS + 1])
def test_a_deadline_rule_outside_the_counted_span_is_refused(tmp_path: Path, days: int) -> None:
    rules = tmp_path / "deadlines.toml"
    rules.write_text(
        f'[[rule]]\nid = "r"\nstarts_on = "ReportReceived"\nstops_on = ["ReportRegistered"]\n'
        f'working_days = {days}\nresponsible = "reporter"\nlegal_source = "test"\n'
    )

    with pytest.raises(DeadlineRulesError, match=f"working_days must be 1 to {MAX_WORKING_DAYS}"):
        load_rules(rules)


# --- overrides ----------------------------------------------------------------------------


def test_override_adds_a_day_off_with_its_source(tmp_path: Path) -> None:
    path = write(tmp_path, override("2026-12-28", off=True, source="SKB amendment 2026"))
    calendar = load_calendar(path)

    added = calendar.day_off(date(2026, 12, 28))

    assert added is not None
    assert added.kind is DayKind.OVERRIDE
    assert added.source == "SKB amendment 2026"
    assert calendar.count(date(2026, 12, 21), 14).last_day == date(2027, 1, 15)


def test_override_removes_a_day_off_and_the_count_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, override("2026-12-24", off=False, name="cancelled"))
    calendar = load_calendar(path)

    counted = calendar.count(date(2026, 12, 21), 14)

    assert calendar.is_working_day(date(2026, 12, 24))
    assert counted.last_day == date(2027, 1, 13)
    assert counted.reinstated == (
        Override(date(2026, 12, 24), off=False, name="cancelled", source="SKB test"),
    )


@settings(max_examples=300, deadline=None)
@given(
    start_day=st.dates(min_value=date(2022, 1, 1), max_value=date(2028, 12, 31)),
    span=st.integers(min_value=-10, max_value=800),
)
def test_elapsed_counts_the_working_days_one_by_one_would(start_day: date, span: int) -> None:
    # The triage asks elapsed() of every open case: it is counted by arithmetic, which must
    # agree with the definition, across weekends, holidays, overrides and years without data.
    calendar = OVERRIDDEN
    end_day = start_day + timedelta(days=span)
    one_by_one = sum(
        1
        for offset in range(1, span + 1)
        if calendar.day_off(start_day + timedelta(days=offset)) is None
    )

    assert calendar.elapsed(start_day, end_day) == one_by_one


def test_declared_year_is_covered_with_its_overrides(tmp_path: Path) -> None:
    text = f'[[year]]\nyear = {UNCOVERED_YEAR}\nsource = "SKB for {UNCOVERED_YEAR}"\n\n' + override(
        f"{UNCOVERED_YEAR}-03-10", off=True
    )
    calendar = load_calendar(write(tmp_path, text))

    counted = calendar.count(date(UNCOVERED_YEAR, 3, 9), 1)

    assert calendar.covers(UNCOVERED_YEAR)
    assert f"SKB for {UNCOVERED_YEAR}" in calendar.coverage(UNCOVERED_YEAR)
    assert counted.last_day == date(UNCOVERED_YEAR, 3, 11)
    assert not counted.provisional
    # The package's holidays of a declared year count too, corrected by the overrides.
    assert not calendar.is_working_day(date(UNCOVERED_YEAR, 1, 1))


def test_bundled_overrides_read_and_hold_no_correction() -> None:
    assert read_overrides() == Overrides()


# --- provisional years --------------------------------------------------------------------


def test_year_without_holiday_data_counts_weekends_only_and_is_provisional() -> None:
    calendar = load_calendar()
    new_year = date(UNCOVERED_YEAR, 1, 1)  # a national holiday in every year, yet not known

    counted = calendar.count(date(UNCOVERED_YEAR - 1, 12, 30), 2)

    assert calendar.is_working_day(new_year)
    assert counted.last_day == new_year
    assert counted.provisional_years == (UNCOVERED_YEAR - 1, UNCOVERED_YEAR)
    assert {off.kind for off in counted.skipped} <= {DayKind.WEEKEND}
    assert "provisional" in calendar.coverage(UNCOVERED_YEAR)


def test_span_reaching_an_uncovered_year_is_provisional_from_a_covered_one() -> None:
    counted = load_calendar().count(date(2027, 12, 20), 14)

    assert counted.provisional_years == (2028,)
    assert counted.skipped[0].kind is DayKind.CUTI_BERSAMA  # 2027-12-24 is still known


# --- bad override files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("[[override]\n", "fix the TOML"),
        ("[years]\n2027 = [2027-01-01]\n", "keep only the days the decree sets differently"),
        (override("2026-12-26", off=True), "2026-12-26 is a Saturday"),
        (override("2026-12-24", off=True), "already has 2026-12-24 off"),
        (override("2026-12-30", off=False), "does not have 2026-12-30 off"),
        (override("2099-03-02", off=True), "add a [[year]] entry for 2099"),
        (override('"2026-12-28"', off=True), "date must be a TOML date without quotes"),
        (override("2026-12-28", off=True, source=""), "source must be a non-empty text"),
        (override("2026-12-28", off=True) + "reason = 1\n", "unknown key 'reason'"),
        (override("2026-12-28", off=True) * 2, "more than one override of 2026-12-28"),
        ("[[year]]\nyear = '2028'\nsource = 'x'\n", "year must be a whole number"),
        ('[[override]]\ndate = 2026-12-28\noff = "yes"\nname = "n"\nsource = "s"\n', "off must"),
    ],
)
def test_bad_override_file_says_what_to_fix(tmp_path: Path, text: str, fix: str) -> None:
    path = write(tmp_path, text)

    with pytest.raises(CalendarError) as raised:
        load_calendar(path)

    assert fix in str(raised.value)
    assert str(path) in str(raised.value)


def test_every_problem_is_listed_at_once_with_its_entry(tmp_path: Path) -> None:
    text = override("2026-12-26", off=True) + override("2026-12-30", off=False)

    with pytest.raises(CalendarError) as raised:
        load_calendar(write(tmp_path, text))

    assert "[[override]] #1: 2026-12-26" in str(raised.value)
    assert "[[override]] #2: " in str(raised.value)


def test_missing_override_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="KAWAL_CALENDAR_FILE"):
        load_calendar(tmp_path / "absent.toml")


# --- clocks on the calendar ---------------------------------------------------------------


def recommended_on(moment: datetime) -> tuple[CaseLifecycle, dict[str, Any]]:
    first = report()
    case = start(first, "bkn")
    record = recommendation(first["envelope"]["case_id"])
    record["envelope"]["event_time"] = moment
    return case, record


def test_follow_up_clock_started_in_late_december_runs_into_2027() -> None:
    calendar, rules = load_calendar(), load_rules()
    # 09:00 Jakarta on 21 December 2026.
    case, record = recommended_on(datetime(2026, 12, 21, 2, 0, tzinfo=UTC))

    update_clocks(case, rules, calendar, "RecommendationIssued", record)

    [clock] = case.clocks
    assert clock["rule_id"] == "recommendation_follow_up"
    assert clock["due_at"] == "2027-01-14T17:00:00+00:00"
    assert clock["provisional"] is False
    assert provisional_clocks(case, record["envelope"]["event_id"]) == []


def test_clock_through_a_year_without_data_is_kept_provisional() -> None:
    calendar, rules = load_calendar(), load_rules()
    case, record = recommended_on(datetime(UNCOVERED_YEAR, 6, 1, 3, 0, tzinfo=UTC))

    update_clocks(case, rules, calendar, "RecommendationIssued", record)

    [clock] = case.clocks
    assert clock["provisional"] is True
    assert provisional_clocks(case, record["envelope"]["event_id"]) == [clock]
    assert uncovered_years(calendar, clock) == [UNCOVERED_YEAR]


def test_clock_stored_before_the_provisional_field_reads_as_firm() -> None:
    stored = {
        "rule_id": "recommendation_follow_up",
        "started_at": "2026-01-05T02:00:00+00:00",
        "due_at": "2026-01-23T17:00:00+00:00",
        "caused_by": "e1",
    }
    case = start(report(), "bkn")
    case.clocks = [stored]

    again = CaseLifecycle.from_json(case.to_json())

    assert again is not None
    assert not is_provisional(again.clocks[0])
    assert provisional_clocks(again, "e1") == []


def test_explained_due_date_is_the_clock_due_date() -> None:
    calendar, rules = load_calendar(), load_rules()
    case, record = recommended_on(datetime(2026, 12, 21, 2, 0, tzinfo=UTC))
    update_clocks(case, rules, calendar, "RecommendationIssued", record)

    view = explain_due(calendar, date(2026, 12, 21), 14)

    assert view["due_at"] == case.clocks[0]["due_at"]
    assert view["due_at_jakarta"] == "2027-01-15T00:00:00+07:00"
    assert view["calendar"].keys() == {"2026", "2027"}
