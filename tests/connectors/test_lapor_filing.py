"""The filing rule on the portal: asked, counted in working days, told before and after sending.

Real HTTP against the portal of ``lapor-intake`` (real SeaweedFS evidence store and spool); the
portal's clock is set to fixed days, so that weekends and the holidays of the hub's calendar
fall where the tests say.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from connectors.lapor.filing import FilingRule, Standing
from connectors.lapor.mapping import report_event
from streams.domain.calendar import WorkingCalendar, load_calendar
from tests.connectors.test_lapor_form_page import send
from tests.connectors.test_lapor_portal import only_event, opened_intake, post_json, request
from tests.lapor_support import report_fields

#: Tuesday 31 March 2026, 10:00 WIB: after Nyepi and Idul Fitri's cuti bersama (18-24 March).
AFTER_LEBARAN = datetime(2026, 3, 31, 3, 0, tzinfo=UTC)
#: Friday 13 March 2026: 7 working days before AFTER_LEBARAN, 12 counting weekends only.
BEFORE_LEBARAN = "2026-03-13"
#: A year no holiday data will cover soon: counted on weekends only.
UNCOVERED = datetime(2090, 1, 12, 3, 0, tzinfo=UTC)  # a Thursday


@pytest.fixture
def portal(location: S3Location, tmp_path: Path) -> Iterator[LaporIntake]:
    """The portal on 31 March 2026."""
    with opened_intake(location, tmp_path / "spool") as connector:
        set_clock(connector, AFTER_LEBARAN)
        yield connector


def set_clock(connector: LaporIntake, now: datetime) -> None:
    """Make the running portal's day ``now`` (the form's and the intake's clock)."""
    server = connector._server  # the portal this connector serves, in this process
    assert server is not None
    server.portal.intake.clock = lambda: now
    server.portal.pages.clock = lambda: now


def page_of(connector: LaporIntake, path: str) -> str:
    status, _, body = request(connector, "GET", path)
    assert status == 200
    return body.decode()


# The rule, counted on the hub's calendar.


def test_holidays_and_weekends_are_not_counted() -> None:
    rule = FilingRule(load_calendar())
    on_last_day = rule.filing(date(2026, 3, 13), date(2026, 3, 31))
    a_day_later = rule.filing(date(2026, 3, 13), date(2026, 4, 1))

    assert on_last_day.working_days == 7  # 18 days: 2 weekends, Nyepi and 4 days of leave off
    assert on_last_day.standing is Standing.TIMELY
    assert a_day_later.working_days == 8
    assert a_day_later.standing is Standing.LATE


def test_the_earliest_timely_day_reaches_back_over_the_holidays() -> None:
    window = FilingRule(load_calendar()).window(date(2026, 3, 31))

    assert window.earliest == date(2026, 3, 13)
    assert window.uncounted_years == ()


def test_a_year_without_holiday_data_makes_late_only_maybe_late(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rule = FilingRule(WorkingCalendar())
    with caplog.at_level(logging.WARNING, logger="connectors.lapor.filing"):
        late = rule.filing(date(2090, 1, 2), date(2090, 1, 12))
        timely = rule.filing(date(2090, 1, 10), date(2090, 1, 12))

    assert late.standing is Standing.MAYBE_LATE
    assert late.uncounted_years == (2090,)
    assert timely.standing is Standing.TIMELY  # holidays left out only shorten the count
    warnings = [r.getMessage() for r in caplog.records if "no holiday data for 2090" in r.message]
    assert len(warnings) == 1  # once per year, not once per report


# The form.


def test_the_form_asks_when_the_reporter_learnt_of_it_and_states_the_rule(
    portal: LaporIntake,
) -> None:
    page = page_of(portal, "/")

    assert "Kapan Anda mengetahuinya?" in page
    assert "paling lambat 7 hari kerja sejak Anda mengetahui pelanggarannya" in page
    assert "pada 13 Maret 2026 atau sesudahnya" in page
    assert "Bawaslu mungkin tidak meregistrasinya sebagai laporan" in page
    assert 'name="discovered_on"' in page
    assert 'max="2026-03-31"' in page
    assert 'name="late_ok"' in page
    assert "Tetap kirim" in page
    assert 'name="happened_on"' not in page
    assert "belum ada di kalender" not in page  # 2026 has its holidays


def test_the_form_states_the_rule_in_english(portal: LaporIntake) -> None:
    page = page_of(portal, "/?lang=en")

    assert "When did you learn of it?" in page
    assert "within 7 working days of the day you learnt of it" in page
    assert "if you learnt of it on 13 March 2026 or later" in page
    assert "Send it anyway" in page


def test_the_form_says_when_the_calendar_lacks_the_years_holidays(portal: LaporIntake) -> None:
    set_clock(portal, UNCOVERED)

    page = page_of(portal, "/?lang=en")

    assert "The holidays of 2090 are not in the calendar yet" in page
    assert "Hari libur tahun 2090 belum ada di kalender" in page_of(portal, "/")


# Sending.


def test_a_day_of_discovery_in_the_future_is_refused_in_the_form(portal: LaporIntake) -> None:
    status, page = send(portal, report_fields(discovered_on="2026-04-01"), [])

    assert status == 400
    assert "Tanggal Anda mengetahuinya tidak boleh di masa depan" in page
    assert portal.read(None, 10) == []


def test_a_late_report_is_told_before_it_is_sent_and_kept_nowhere(portal: LaporIntake) -> None:
    status, page = send(portal, report_fields(discovered_on="2026-03-12"), [])

    assert status == 400
    assert "Anda mengetahuinya 8 hari kerja yang lalu" in page
    assert "Bawaslu mungkin tidak meregistrasinya sebagai laporan" in page
    assert 'id="discovered_on-fault"' in page
    assert 'value="2026-03-12"' in page  # the day stays in the form, to send it anyway
    assert portal.read(None, 10) == []


def test_a_late_report_is_told_in_the_api_in_english(portal: LaporIntake) -> None:
    status, answer = post_json(portal, report_fields(discovered_on="2026-03-12"), lang="en")

    assert status == 400
    assert [(p["field"], p["code"]) for p in answer["problems"]] == [("discovered_on", "late")]
    assert "You learnt of it 8 working days ago" in answer["problems"][0]["message"]
    assert portal.read(None, 10) == []


def test_a_late_report_sent_anyway_is_taken_and_its_receipt_and_page_say_so(
    portal: LaporIntake,
) -> None:
    fields = report_fields(discovered_on="2026-03-12", late_ok="true")

    status, page = send(portal, fields, [])

    assert status == 201
    assert 'id="late-note"' in page
    assert "Anda mengirim laporan ini lebih dari 7 hari kerja setelah Anda mengetahui" in page
    code = re.search(r'id="tracking-code">([^<]+)<', page)
    assert code is not None
    tracking = page_of(portal, f"/lacak/{code.group(1)}?lang=en")
    assert "You sent this report over 7 working days after you learnt" in tracking
    status, _, body = request(portal, "GET", f"/api/v1/tracking/{code.group(1)}")
    assert json.loads(body)["filing"]["standing"] == "late"
    assert only_event(portal)["discovered_on"] == date(2026, 3, 12)


def test_a_late_report_sent_anyway_over_the_api_is_taken_saying_so(portal: LaporIntake) -> None:
    payload = report_fields(discovered_on="2026-03-12") | {"late_ok": True}

    status, answer = post_json(portal, payload, lang="en")

    assert status == 202
    assert answer["filing"]["standing"] == "late"
    assert answer["filing"]["working_days"] == 8
    assert "Bawaslu may not register it as a report" in answer["filing"]["message"]


def test_a_report_in_time_across_the_holidays_is_taken_without_a_word(
    portal: LaporIntake,
) -> None:
    # 18 days before, 12 working days counting weekends only: in time on the hub's calendar.
    status, answer = post_json(portal, report_fields(discovered_on=BEFORE_LEBARAN))

    assert status == 202
    assert answer["filing"] == {"standing": "timely", "message": None, "working_days": 7}
    tracking = page_of(portal, answer["status_url"])
    assert "late-note" not in tracking
    assert only_event(portal)["discovered_on"] == date(2026, 3, 13)


def test_a_report_in_time_across_a_weekend_is_taken_without_a_word(portal: LaporIntake) -> None:
    set_clock(portal, datetime(2026, 12, 9, 3, 0, tzinfo=UTC))  # a Wednesday
    # Monday of the week before: 9 days, 7 of them working days.
    status, page = send(portal, report_fields(discovered_on="2026-11-30"), [])

    assert status == 201
    assert "late-note" not in page


def test_a_report_maybe_late_through_a_year_without_holidays_says_so(
    portal: LaporIntake,
) -> None:
    set_clock(portal, UNCOVERED)
    fields = report_fields(discovered_on="2090-01-02")

    status, answer = post_json(portal, fields, lang="en")
    assert status == 400
    assert "counted without the holidays of 2090" in answer["problems"][0]["message"]

    status, answer = post_json(portal, fields | {"late_ok": "true"}, lang="en")
    assert status == 202
    assert answer["filing"]["standing"] == "maybe_late"
    assert "may have sent this report over 7 working days" in answer["filing"]["message"]


def test_happened_on_is_refused_not_taken_as_the_day_of_discovery(portal: LaporIntake) -> None:
    payload: dict[str, Any] = report_fields(happened_on="2026-03-30")
    del payload["discovered_on"]

    status, answer = post_json(portal, payload, lang="en")

    assert status == 400
    codes = {(p["field"], p["code"]) for p in answer["problems"]}
    assert codes == {("happened_on", "renamed"), ("discovered_on", "missing")}
    assert portal.read(None, 10) == []


def test_a_report_spooled_before_the_change_keeps_its_day() -> None:
    # What the portal spooled before it asked for discovered_on still maps as it did.
    report: dict[str, Any] = dict(report_fields())
    del report["discovered_on"]
    report |= {"happened_on": "2026-03-10", "reporter_identity": None}
    body: dict[str, Any] = {
        "id": "a" * 32,
        "case_number": "WEB/2026/AAAAAAAA-AAAAAAAA",
        "received_at": "2026-03-11T03:00:00+00:00",
        "channel": "WEB_FORM",
        "report": report,
        "evidence": [],
        "evidence_keys": None,
    }

    event = report_event("bawaslu.33", b"k" * 32, body)

    assert event.record["discovered_on"] == date(2026, 3, 10)
