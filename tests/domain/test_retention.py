"""Retention rules: the file and its refusals, and which rule is due for a case when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.domain.erasure import REASON_MAX
from streams.domain.lifecycle import CaseLifecycle, start
from streams.domain.retention import (
    RetentionRule,
    RetentionRulesError,
    due_rule,
    erasure_reason,
    load_retention_rules,
    parse_rules,
)
from tests.hubtools import report

REPORTED = datetime(2024, 11, 1, 2, 0, tzinfo=UTC)
CLOSED = datetime(2025, 2, 1, 5, 30, tzinfo=UTC)


def rule(**changes: Any) -> dict[str, Any]:
    """A valid ``[[rule]]`` table, with ``changes``."""
    return {
        "id": "closed_case",
        "after": "closed",
        "years": 5,
        "legal_source": "Law 27/2022 (test)",
        "why": "purpose met",
    } | changes


def rules(*tables: dict[str, Any]) -> tuple[RetentionRule, ...]:
    return parse_rules({"rule": list(tables)}, "test.toml")


def case(*, closed: datetime | None = CLOSED, erased: datetime | None = None) -> CaseLifecycle:
    first = report()
    first["envelope"]["event_time"] = REPORTED
    state = start(first, "bkn")
    state.closed_at = closed.isoformat() if closed else None
    state.erased_at = erased.isoformat() if erased else None
    return state


def test_the_bundled_rules_load_with_their_sources() -> None:
    [bundled] = load_retention_rules()

    assert (bundled.id, bundled.after, bundled.period) == ("closed_case", "closed", "5 years")
    assert "27/2022" in bundled.legal_source
    assert bundled.why


def test_a_file_of_the_settings_is_read(tmp_path: Path) -> None:
    path = tmp_path / "retention.toml"
    path.write_text(
        '[[rule]]\nid = "quick"\nafter = "reported"\ndays = 0\nlegal_source = "test"\n'
        'why = "a test"\n'
    )

    [quick] = load_retention_rules(path)

    assert (quick.id, quick.after, quick.years, quick.days, quick.period) == (
        "quick",
        "reported",
        0,
        0,
        "0 days",
    )


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"

    with pytest.raises(RetentionRulesError, match=f"cannot read the retention rules {missing}"):
        load_retention_rules(missing)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "retention.toml"
    path.write_text("[[rule]\nid = ")

    with pytest.raises(RetentionRulesError, match="unset KAWAL_RETENTION_FILE"):
        load_retention_rules(path)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"rules": []}, "unknown table rules"),
        ({"rule": {"id": "x"}}, "array of tables"),
        ({"rule": ["closed_case"]}, r"\[\[rule\]\] 1: not a table"),
        ({"rule": [rule(id=None)]}, "id must be a non-empty string"),
        ({"rule": [{k: v for k, v in rule().items() if k != "why"}]}, "lacks why"),
        ({"rule": [rule(keep="forever")]}, "unknown keys keep"),
        ({"rule": [rule(id="Closed Case")]}, "lower-case letters"),
        ({"rule": [rule(after="sanctioned")]}, "after must be one of: closed, reported"),
        ({"rule": [{k: v for k, v in rule().items() if k != "years"}]}, "needs a period"),
        ({"rule": [rule(years=-1)]}, "years must be a whole number"),
        ({"rule": [rule(years=2.5)]}, "years must be a whole number"),
        ({"rule": [rule(years=True)]}, "years must be a whole number"),
        ({"rule": [rule(days="30")]}, "days must be a whole number"),
        ({"rule": [rule(legal_source="  ")]}, "legal_source must be a non-empty string"),
        (  # every erasure by the rule quotes it to every party: before, this was taken
            {"rule": [rule(legal_source="approved by DPO Budi, tel 081234567890")]},
            "legal_source looks like it holds personal data",
        ),
        ({"rule": [rule(), rule(years=7)]}, "repeats the id 'closed_case'"),
    ],
)
def test_a_wrong_rule_is_refused_naming_it_and_what_to_write(
    document: dict[str, Any], says: str
) -> None:
    with pytest.raises(RetentionRulesError, match=says) as refused:
        parse_rules(document, "test.toml")

    assert "test.toml" in str(refused.value)


def test_a_closed_case_is_due_once_its_period_after_closing_ended() -> None:
    closed_case = rules(rule())

    assert due_rule(closed_case, case(), CLOSED.replace(year=2030) - timedelta(seconds=1)) is None
    assert due_rule(closed_case, case(), CLOSED.replace(year=2030)) == closed_case[0]


def test_an_open_case_is_not_due_after_closing() -> None:
    assert due_rule(rules(rule()), case(closed=None), datetime(2099, 1, 1, tzinfo=UTC)) is None


def test_an_erased_case_is_never_due_again() -> None:
    erased = case(erased=CLOSED + timedelta(days=1))

    assert due_rule(rules(rule(years=0)), erased, datetime(2099, 1, 1, tzinfo=UTC)) is None


def test_a_reported_rule_finds_a_case_never_closed() -> None:
    backstop = rules(rule(), rule(id="unclosed_case", after="reported", years=10))

    found = due_rule(backstop, case(closed=None), REPORTED.replace(year=2034))

    assert found is not None
    assert found.id == "unclosed_case"


def test_of_two_due_rules_the_one_that_ended_first_erases() -> None:
    both = rules(rule(years=5), rule(id="short", after="reported", years=1, days=30))

    found = due_rule(both, case(), datetime(2040, 1, 1, tzinfo=UTC))

    assert found is not None
    assert found.id == "short"


def test_rules_due_at_the_same_moment_go_in_file_order() -> None:
    twins = rules(rule(id="first"), rule(id="second"))

    found = due_rule(twins, case(), datetime(2040, 1, 1, tzinfo=UTC))

    assert found is not None
    assert found.id == "first"


def test_a_period_from_29_february_ends_on_28_february() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)

    [one_year] = rules(rule(years=1, days=1))

    assert one_year.due_at(case(closed=leap)) == datetime(2029, 3, 1, 12, 0, tzinfo=UTC)
    assert one_year.period == "1 year and 1 day"


def test_the_erasure_reason_names_the_rule_and_fits_the_vault() -> None:
    [closed_case] = rules(rule())
    [wordy] = rules(rule(legal_source="s" * 1000))

    assert erasure_reason(closed_case).startswith(
        "retention period ended: rule closed_case keeps personal data 5 years after the case "
        "was closed"
    )
    assert len(erasure_reason(wordy)) == REASON_MAX
