"""Registration and verification are the Bawaslu office's to answer for, whoever reported.

Only a supervisor registers a report (DOMAIN.md): an inspectorate's report is its region's
Bawaslu office's to register and verify, that office's regency's or city's one if registered,
else its province's, and its clock runs from when the hub received the report. Lifecycles kept
before the hub chose a supervisor still load, and their clocks name whom they named.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.codec import Decoded
from streams.domain.deadlines import DeadlineRulesError, breach_event, load_rules, overdue
from streams.domain.institutions import Institution
from streams.domain.lifecycle import CaseLifecycle
from streams.domain.overdue_cases import overdue_clocks
from streams.hub.ingress import CaseRules, admit
from tests.hub.steptools import step_pipeline
from tests.hubtools import registration, report

#: When the inspectorate says it found the matter: a Friday, five days before it sent it.
DATED = datetime(2026, 10, 30, 2, tzinfo=UTC)
#: When the hub received the report: Wednesday 4 November 2026, 09:00 Jakarta.
RECEIVED = datetime(2026, 11, 4, 2, tzinfo=UTC)
LATER = RECEIVED + timedelta(days=60)
REGENCY_OFFICE = Institution("bawaslu.3374", "election_supervisor", "Bawaslu Kota Semarang")


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> CaseRules:
    """The bundled rules and registry (Bawaslu RI and bawaslu.33; no regency office)."""
    return step_pipeline(tmp_path_factory.mktemp("home")).rules


def with_regency_office(rules: CaseRules) -> CaseRules:
    return replace(rules, institutions={**rules.institutions, REGENCY_OFFICE.id: REGENCY_OFFICE})


def dated(record: dict[str, Any], moment: datetime) -> Decoded:
    record["envelope"]["event_time"] = moment
    return Decoded(f"kawal.events.{record['envelope']['event_type']}", record)


def admitted(rules: CaseRules, record: dict[str, Any], case: CaseLifecycle | None) -> CaseLifecycle:
    after = admit(rules, dated(record, record["envelope"]["event_time"]), case, {}, RECEIVED)
    assert isinstance(after, CaseLifecycle), after
    return after


def reported(rules: CaseRules, source: str) -> tuple[str, CaseLifecycle]:
    first = report(source)
    first["envelope"]["event_time"] = DATED
    return str(first["envelope"]["case_id"]), admitted(rules, first, None)


def test_an_inspectorates_report_is_the_registered_regency_offices(rules: CaseRules) -> None:
    case_id, case = reported(with_regency_office(rules), "inspektorat.3374")

    [clock] = case.clocks
    assert case.supervisor == "bawaslu.3374"
    assert clock["responsible"] == "bawaslu.3374"
    # Not the sender's clock: it runs from receipt, whatever date the report gives itself.
    assert clock["started_at"] == RECEIVED.isoformat()
    assert "own_by" not in clock
    # 3 working days after Wednesday (Thursday, Friday, Monday): due at midnight Jakarta after
    # Monday 9 November; counted from the report's own date, it would be due on Wednesday.
    assert clock["due_at"] == "2026-11-09T17:00:00+00:00"
    breach = breach_event(case_id, case, clock, rules.deadline_rules["report_registration"], LATER)
    assert breach["responsible_institution"] == "bawaslu.3374"
    assert breach["responsible_role"] == "ELECTION_SUPERVISOR"


def test_without_a_registered_regency_office_it_is_the_provinces(rules: CaseRules) -> None:
    _, case = reported(rules, "inspektorat.3374")

    [clock] = case.clocks
    assert case.supervisor == "bawaslu.33"
    assert clock["responsible"] == "bawaslu.33"
    assert clock["started_at"] == RECEIVED.isoformat()
    [row] = overdue_clocks([("c", case)], rules.deadline_rules, rules.calendar, LATER)
    assert (row.responsible_institution, row.responsible_role) == (
        "bawaslu.33",
        "ELECTION_SUPERVISOR",
    )


def test_a_bawaslu_offices_report_stays_its_own(rules: CaseRules) -> None:
    # The regency office is registered, yet the province office filed it: it is the province's.
    _, case = reported(with_regency_office(rules), "bawaslu.33")

    [clock] = case.clocks
    assert case.supervisor == "bawaslu.33"
    assert clock["responsible"] == "bawaslu.33"
    # Its own clock runs on the times it signs, as before.
    assert clock["own_by"] == "bawaslu.33"
    assert clock["started_at"] == DATED.isoformat()


def test_verification_is_the_supervisors_who_registered_it(rules: CaseRules) -> None:
    regency = with_regency_office(rules)
    case_id, case = reported(regency, "inspektorat.3374")
    registered = registration(case_id, "bawaslu.3374")
    registered["envelope"]["event_time"] = RECEIVED

    after = admitted(regency, registered, case)

    [clock] = after.clocks
    assert clock["rule_id"] == "report_verification"
    assert clock["responsible"] == "bawaslu.3374"
    assert clock["own_by"] == "bawaslu.3374"


def kept_before(source: str) -> CaseLifecycle:
    """A case table value as the hub kept it before it chose supervisors: no supervisor, and
    the registration clock of an inspectorate's report its own, started at its date."""
    case = CaseLifecycle.from_json(
        {
            "phase": "reported",
            "reported_at": DATED.isoformat(),
            "authority": "bkn",
            "reporter": source,
            "employing_agency": "ppk.3374",
            "region_code": "3374",
            "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
            "clocks": [
                {
                    "rule_id": "report_registration",
                    "started_at": DATED.isoformat(),
                    "due_at": "2026-11-04T17:00:00+00:00",
                    "caused_by": "6d1b3c1e-0f4e-4a55-9d1e-8f3a2b1c0d9e",
                    "provisional": False,
                    "working_days": 3,
                    "own_by": source,
                }
            ],
        }
    )
    assert case is not None
    return case


def test_a_case_kept_before_loads_and_its_clock_names_whom_it_named(rules: CaseRules) -> None:
    case = kept_before("inspektorat.3374")
    [clock] = overdue(case, LATER)
    rule = rules.deadline_rules["report_registration"]

    breach = breach_event("c", case, clock, rule, LATER)
    # The timer's breach arrives: the case now has a supervisor, the old clock keeps its party.
    after = admit(rules, dated(breach, LATER), case, {}, LATER)

    assert case.supervisor is None
    assert breach["responsible_institution"] == "inspektorat.3374"
    assert isinstance(after, CaseLifecycle), after
    assert after.supervisor == "bawaslu.33"
    [row] = overdue_clocks([("c", after)], rules.deadline_rules, rules.calendar, LATER)
    assert row.responsible_institution == "inspektorat.3374"
    assert row.breach_recorded


def test_an_old_rule_file_saying_reporter_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.toml"
    path.write_text(
        '[[rule]]\nid = "report_registration"\nstarts_on = "ReportReceived"\n'
        'stops_on = ["ReportRegistered"]\nworking_days = 3\nresponsible = "reporter"\n'
        'legal_source = "test"\n',
        encoding="utf-8",
    )

    assert load_rules(path)["report_registration"].responsible == "supervisor"


def test_a_rule_file_naming_no_party_is_refused_with_the_parties(tmp_path: Path) -> None:
    path = tmp_path / "deadlines.toml"
    path.write_text(
        '[[rule]]\nid = "report_registration"\nstarts_on = "ReportReceived"\n'
        'stops_on = ["ReportRegistered"]\nworking_days = 3\nresponsible = "inspectorate"\n'
        'legal_source = "test"\n',
        encoding="utf-8",
    )

    with pytest.raises(DeadlineRulesError) as refused:
        load_rules(path)

    assert "responsible must be one of ['authority', 'employing_agency', 'supervisor']" in str(
        refused.value
    )
    assert "reporter is read as supervisor" in str(refused.value)
