"""A report's fields are checked one by one; every fault is named, no value is echoed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.lapor.field_reader import SubmissionRefusedError
from connectors.lapor.steps import StepDataError, load_steps, step_of
from connectors.lapor.submission import (
    Rules,
    read_submission,
    reporters_today,
    violation_codes,
)
from tests.lapor_support import report_fields as support_fields

RULES = Rules("33", frozenset({"ppk.3374"}), ("pilkada-2024",))
TODAY = date(2024, 11, 5)


def report_fields(**changes: Any) -> dict[str, Any]:
    """A complete report learnt of on 1 November 2024, two working days before ``TODAY``."""
    return support_fields(**({"discovered_on": "2024-11-01"} | changes))


def refused(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SubmissionRefusedError) as info:
        read_submission(raw, RULES, TODAY)
    return {problem.field: problem.code for problem in info.value.problems}


def test_a_complete_anonymous_report_is_read() -> None:
    submission = read_submission(report_fields(), RULES, TODAY)

    assert submission.reporter_identity is None
    assert submission.discovered_on == date(2024, 11, 1)
    assert submission.fields()["discovered_on"] == "2024-11-01"
    assert "happened_on" not in submission.fields()


def test_an_anonymous_report_keeps_nothing_of_the_reporter() -> None:
    raw = report_fields(reporter_name="", reporter_contact="")

    assert read_submission(raw, RULES, TODAY).reporter_identity is None


def test_a_name_sent_with_an_anonymous_report_is_asked_about_not_dropped() -> None:
    # Dropped unseen, as before, the reporter believed Bawaslu could reach them.
    raw = report_fields(reporter_name="Siti", reporter_contact="siti@example.id")

    assert refused(raw) == {"anonymous": "ambiguous"}


def test_the_nip_may_be_left_empty() -> None:
    assert read_submission(report_fields(subject_nip=""), RULES, TODAY).subject_nip == ""


def test_a_field_too_long_is_refused() -> None:
    assert refused(report_fields(summary="x" * 5001)) == {"summary": "too_long"}


def test_a_field_that_is_not_text_is_refused() -> None:
    raw: dict[str, Any] = report_fields()
    raw["subject_name"] = ["Budi"]

    assert refused(raw) == {"subject_name": "invalid"}


def test_anonymous_must_be_yes_or_no() -> None:
    raw: dict[str, Any] = report_fields()
    raw["anonymous"] = 5

    assert refused(raw)["anonymous"] == "invalid"


def test_a_date_that_is_not_one_is_refused() -> None:
    assert refused(report_fields(discovered_on="1 November")) == {"discovered_on": "invalid"}
    assert refused(report_fields(discovered_on="20241101")) == {"discovered_on": "invalid"}


@pytest.mark.parametrize("region", ["33a", "337", "33\u0667\u0664", "\uff13\uff13", "99", "3300"])
def test_a_region_code_that_is_not_one_is_refused(region: str) -> None:
    # Arabic-Indic or fullwidth digits would file the case under a region of their own; no
    # province has the code 99, and no regency or city is numbered 00 (the province is 33).
    assert refused(report_fields(region_code=region)) == {"region_code": "invalid"}


@pytest.mark.parametrize("nip", ["19850101201001100", "\uff11" * 18, "\u0661" * 18])
def test_a_nip_that_is_not_18_digits_is_refused(nip: str) -> None:
    assert refused(report_fields(subject_nip=nip)) == {"subject_nip": "invalid"}


def test_an_election_the_portal_does_not_take_is_refused() -> None:
    assert refused(report_fields(election="pemilu-1999")) == {"election": "unknown"}


def test_every_fault_is_named_at_once() -> None:
    raw = {"anonymous": "false"}

    assert set(refused(raw)) == {
        "reporter_name",
        "reporter_contact",
        "employing_agency",
        "region_code",
        "election",
        "violation",
        "discovered_on",
        "summary",
    }


def test_the_national_office_takes_every_region() -> None:
    national = Rules("", frozenset({"ppk.3374"}), ("pilkada-2024",))

    assert read_submission(report_fields(region_code="91"), national, TODAY).region_code == "91"


def test_reporters_choose_among_labelled_violations() -> None:
    codes = violation_codes()

    assert "UNKNOWN" not in codes
    assert "DISCIPLINE_USE_OF_OFFICE_FACILITIES" in codes


def test_each_step_has_words_in_both_languages() -> None:
    steps = load_steps()

    assert list(steps)[:4] == ["not_forwarded", "received", "registered", "not_registered"]
    for step in steps.values():
        for locale in ("id", "en"):
            assert step.text(locale).title
            assert step.text(locale).next


@pytest.mark.parametrize(
    ("event_type", "fields", "step"),
    [
        ("ReportReceived", {}, "received"),
        ("ReportRejected", {}, "not_registered"),
        ("VerificationCompleted", {"verdict": "PROVEN"}, "proven"),
        ("VerificationCompleted", {"verdict": "UNKNOWN"}, None),
        ("SanctionImposed", {}, "sanction_imposed"),
        ("CaseClosed", {}, "closed"),
        ("CaseClosed", {"closing_reason": "NOT_PROVEN"}, "closed"),
        ("CaseClosed", {"closing_reason": "MERGED_INTO_ANOTHER_CASE"}, "merged"),
        ("PersonalDataErased", {}, None),
    ],
)
def test_entries_become_steps(event_type: str, fields: dict[str, Any], step: str | None) -> None:
    assert step_of(event_type, fields) == step


def test_a_step_without_its_words_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "steps.toml"
    path.write_text('[received]\nevent = "ReportReceived"\nid.title = "Diterima"\n')

    with pytest.raises(StepDataError, match=r"\[received\] needs event, id.title"):
        load_steps(path)


def test_an_unreadable_steps_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StepDataError, match="cannot read the reporter's steps"):
        load_steps(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("jurisdiction", "day"),
    [("33", date(2026, 12, 6)), ("91", date(2026, 12, 6)), ("", date(2026, 12, 6))],
)
def test_today_is_the_reporters_day_not_utcs(jurisdiction: str, day: date) -> None:
    # 06:30 in Semarang, 08:30 in Jayapura: still the 5th in UTC.
    now = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)

    assert reporters_today(now, jurisdiction) == day
    # What happened this morning is not in the future.
    fields = report_fields(discovered_on=day.isoformat(), region_code=jurisdiction or "91")
    rules = Rules(jurisdiction, frozenset({"ppk.3374"}), ("pilkada-2024",))
    assert read_submission(fields, rules, reporters_today(now, jurisdiction)).discovered_on == day


def test_bawaslu_ri_ends_its_day_with_the_last_zone() -> None:
    # 23:30 in Semarang is already the 6th in Jayapura, and the national office takes both.
    now = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)

    assert reporters_today(now, "33") == date(2026, 12, 5)
    assert reporters_today(now, "") == date(2026, 12, 6)


def test_control_characters_are_refused_but_a_summarys_lines_and_tabs_are_kept() -> None:
    # A NUL or BEL is no text anyone typed: a name holding one differs from the name seen.
    raw = report_fields(
        subject_name="Budi\x00 Santoso",
        reporter_name="Siti\x1b[2J",
        reporter_contact="siti@example.id",
        anonymous="false",
        summary="Baris satu\x07",
    )
    assert refused(raw) == {
        "subject_name": "invalid",
        "reporter_name": "invalid",
        "summary": "invalid",
    }

    summary = "Baris satu di kantor\n\tBaris dua di kantor\r\n"
    kept = read_submission(report_fields(summary=summary), RULES, TODAY)
    assert kept.summary == "Baris satu di kantor\n\tBaris dua di kantor"
    assert refused(report_fields(subject_name="Budi\tSantoso")) == {"subject_name": "invalid"}


def test_a_report_without_the_civil_servants_name_is_read_with_it_empty() -> None:
    # A bystander may not know the name: the account says their position, office and place.
    submission = read_submission(report_fields(subject_name=""), RULES, TODAY)

    assert submission.subject_name == ""
    assert submission.fields()["subject_name"] == ""


@pytest.mark.parametrize(
    "summary", ["x", "Mobil dinas dipakai.", "a b c d e f g h i j k l m n o p q r s"]
)
def test_an_account_under_20_characters_without_spaces_is_refused(summary: str) -> None:
    assert refused(report_fields(summary=summary)) == {"summary": "too_short"}


def test_an_account_of_20_characters_without_spaces_is_read() -> None:
    summary = "Kampanye di kantor cam"  # 19 characters without its 3 spaces
    assert refused(report_fields(summary=summary)) == {"summary": "too_short"}
    summary += "t"

    assert read_submission(report_fields(summary=summary), RULES, TODAY).summary == summary
