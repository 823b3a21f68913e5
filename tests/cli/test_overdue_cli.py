"""``kawal case overdue``: the overdue clocks of open cases, read back from a real audit store."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.store import AuditStore
from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from streams.domain.calendar import load_calendar
from streams.domain.deadlines import breach_event, load_rules, update_clocks
from streams.domain.lifecycle import start
from tests.dashboard_mix import follow_up_breach
from tests.entrytools import signed_rows
from tests.hubtools import (
    recommendation,
    referral,
    registration,
    report,
    sanction,
    verification,
)

#: When the cases of the store started: long enough ago for every clock to have run out.
START = datetime(2024, 11, 4, 2, tzinfo=UTC)


def _stored(store: AuditStore, events: list[dict[str, Any]]) -> str:
    """Store ``events`` of one case a day apart from :data:`START`, recorded as they happened."""
    for day, record in enumerate(events):
        record["envelope"]["event_time"] = START + timedelta(days=day)
    rows = signed_rows(AvroCodec(default_catalog()), events)
    for row, record in zip(rows, events, strict=True):
        row["recorded_at"] = record["envelope"]["event_time"]
    store.insert(rows)
    return str(events[0]["envelope"]["case_id"])


def _steps(first: dict[str, Any], *later: str) -> list[dict[str, Any]]:
    case_id = first["envelope"]["case_id"]
    make = {
        "registered": registration,
        "proven": verification,
        "referred": referral,
        "recommended": recommendation,
        "sanctioned": sanction,
    }
    return [first, *(make[step](case_id) for step in later)]


@pytest.fixture
def cases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A store of cases where ``kawal`` finds it: their ids by what they wait for."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", url)
    store = AuditStore(url)
    store.create_schema()
    recommended = ("registered", "proven", "referred", "recommended")
    ignored = _steps(report(), *recommended)
    not_proven = _steps(report(), "registered")
    not_proven.append(verification(not_proven[0]["envelope"]["case_id"], proven=False))
    found = {
        "registration": _stored(store, _steps(report())),
        "follow_up": _stored(store, _steps(report(), *recommended)),
        "breached": _stored(store, [*ignored, follow_up_breach(ignored[0], ignored[-1])]),
        "followed_up": _stored(store, _steps(report(), *recommended, "sanctioned")),
        "not_proven": _stored(store, not_proven),
    }
    store.close()
    return found


def _overdue(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["case", "overdue", "--json", *args]) == EXIT_OK
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["overdue"]
    return rows


def test_lists_each_overdue_clock_with_who_answers_for_it(
    cases: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _overdue(capsys)

    # Due soonest first; the case settled (not proven) and the one followed up wait for none.
    listed = [(r["case_id"], r["rule_id"], r["responsible_institution"]) for r in rows]
    assert listed[0] == (cases["registration"], "report_registration", "bawaslu.33")
    assert sorted(listed[1:]) == sorted(
        (cases[name], "recommendation_follow_up", "ppk.3374") for name in ("follow_up", "breached")
    )
    # Reported on Monday 4 November 2024 (WIB), 3 working days: due at midnight after Thursday.
    assert rows[0]["due_at"] == "2024-11-07T17:00:00+00:00"
    assert rows[0]["responsible_role"] == "ELECTION_SUPERVISOR"
    assert rows[0]["late_working_days"] > 400
    assert rows[0]["late_hours"] > 24 * 365
    recorded = {r["case_id"]: r["breach_recorded"] for r in rows}
    assert recorded == {cases["registration"]: False, cases["follow_up"]: False,
                        cases["breached"]: True}  # fmt: skip


def test_filters_by_the_responsible_institution(
    cases: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _overdue(capsys, "--institution", "ppk.3374")

    assert sorted(r["case_id"] for r in rows) == sorted([cases["follow_up"], cases["breached"]])
    assert {r["rule_id"] for r in rows} == {"recommendation_follow_up"}
    assert _overdue(capsys, "--institution", "bkn") == []


def test_shows_no_personal_data(cases: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["case", "overdue"]) == EXIT_OK
    text = capsys.readouterr().out
    shown = text + json.dumps(_overdue(capsys))

    assert cases["follow_up"] in text
    assert "recommendation_follow_up" in text
    for personal in ("Test Subject", "Test Reporter", "198501012010011001", "reporter:"):
        assert personal not in shown
    assert set(_overdue(capsys)[0]) == {
        "case_id", "rule_id", "due_at", "late_hours", "late_working_days",
        "responsible_institution", "responsible_role", "breach_recorded",
    }  # fmt: skip


def test_an_unknown_institution_is_a_usage_error(
    cases: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["case", "overdue", "--institution", "ppk.0000", "--json"]) == EXIT_USAGE
    captured = capsys.readouterr()

    assert "not a registered institution" in json.loads(captured.out)["error"]
    assert "kawal: --institution: 'ppk.0000' is not a registered institution" in captured.err


def test_no_store_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", f"sqlite:///{tmp_path / 'missing.db'}")

    assert main(["case", "overdue", "--json"]) == EXIT_ERROR
    captured = capsys.readouterr()

    assert "missing.db" in json.loads(captured.out)["error"]
    assert captured.err.startswith("kawal: ")


def test_a_trail_that_does_not_read_back_is_left_out_and_said(
    cases: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    store = AuditStore.open_existing(os.environ["KAWAL_AUDIT_DB_URL"])
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_entries SET event = :bad WHERE case_id = :case AND seq = 1"),
            {"bad": b"\x00not avro", "case": cases["registration"]},
        )
    store.close()

    assert main(["case", "overdue", "--json"]) == EXIT_OK
    captured = capsys.readouterr()
    found = json.loads(captured.out)

    assert found["cases_left_out"] == [cases["registration"]]
    assert cases["registration"] not in [r["case_id"] for r in found["overdue"]]
    assert "1 cases left out" in captured.err
    assert "kawal audit verify" in captured.err


def test_text_says_so_when_nothing_is_overdue(
    cases: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["case", "overdue", "--institution", "bkn"]) == EXIT_OK

    assert capsys.readouterr().out == "no overdue clocks\n"


def _old_breach(first: dict[str, Any]) -> dict[str, Any]:
    """The DeadlineBreached a hub that held the reporter to account recorded for ``first``."""
    rules, case = load_rules(), start(first, "bkn")
    update_clocks(case, rules, load_calendar(), "ReportReceived", first)
    [clock] = case.clocks
    return breach_event(
        first["envelope"]["case_id"], case, clock, rules["report_registration"], START
    )


@pytest.fixture
def inspected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A store of two reports of inspektorat.3374 waiting for registration: one whose breach a
    hub recorded against the inspectorate, one without; their ids."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", url)
    store = AuditStore(url)
    store.create_schema()
    breached = report("inspektorat.3374")
    breached["envelope"]["event_time"] = START
    found = {
        "waiting": _stored(store, [report("inspektorat.3374")]),
        "breached": _stored(store, [breached, _old_breach(breached)]),
    }
    store.close()
    return found


def test_an_inspectorates_report_is_overdue_for_the_bawaslu_office_of_its_region(
    inspected: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The bundled registry holds no bawaslu.3374: the province office answers for it.
    [row] = _overdue(capsys, "--institution", "bawaslu.33")

    assert (row["case_id"], row["rule_id"]) == (inspected["waiting"], "report_registration")
    assert row["responsible_role"] == "ELECTION_SUPERVISOR"
    assert not row["breach_recorded"]
    assert _overdue(capsys, "--institution", "inspektorat.3374") == [
        r for r in _overdue(capsys) if r["case_id"] == inspected["breached"]
    ]


def test_a_registered_regency_office_answers_for_its_regions_reports(
    inspected: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry = tmp_path / "institutions.toml"
    registry.write_text(
        (Path(__file__).parents[2] / "streams" / "data" / "institutions.toml").read_text(
            encoding="utf-8"
        )
        + '\n[[institution]]\nid = "bawaslu.3374"\nrole = "election_supervisor"\n'
        'name = "Bawaslu Kota Semarang"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KAWAL_INSTITUTIONS_FILE", str(registry))

    rows = {r["case_id"]: r["responsible_institution"] for r in _overdue(capsys)}

    # The breach recorded against the inspectorate still names it: that is what the hub said.
    assert rows == {inspected["waiting"]: "bawaslu.3374", inspected["breached"]: "inspektorat.3374"}
