"""Lifecycle scenarios end to end on the real broker (DOMAIN.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from streams.topics import inbound_topic
from tests.hubtools import (
    RunningHub,
    envelope,
    http_request,
    recommendation,
    registration,
    report,
    sanction,
    verification,
)


def closed(case_id: str, reason: str) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bkn", "CaseClosed"),
        "closing_reason": reason,
        "closed_on": date(2024, 12, 1),
        "final_sanction": None,
        "merged_into_case_id": None,
        "remarks": None,
    }


def appeal(case_id: str) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "ppk.3374", "AppealFiled"),
        "filed_with": "BPASN",
        "filed_on": date(2024, 12, 2),
        "contested_decree_number": "800/1/2024",
        "appellant_nip": "198501012010011001",
        "grounds": "Out of proportion.",
    }


def decided(case_id: str, remedy_event_id: str) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bpasn", "AppealDecided"),
        "remedy_event_id": remedy_event_id,
        "decided_by": "BPASN",
        "decision": "UPHELD",
        "decision_number": "BPASN/1/2024",
        "decided_on": date(2024, 12, 20),
        "amended_sanction": None,
        "considerations": None,
    }


def blocked(case_id: str) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bkn", "PersonnelDataBlocked"),
        "blocking_reference": "SIASN/BLK/1",
        "reason": "RECOMMENDATION_NOT_FOLLOWED_UP",
        "subject_nip": "198501012010011001",
        "employing_agency": "ppk.3374",
        "blocked_at": datetime.now(UTC),
        "breach_event_id": None,
    }


def types(hub: RunningHub, case_id: str) -> list[str]:
    return [row.event_type for row in hub.store.trail(case_id)]


def test_proven_recommended_sanctioned_closed(hub: RunningHub) -> None:
    case_id = hub.open_case()
    hub.step("RecommendationIssued", recommendation(case_id))
    hub.step("SanctionImposed", sanction(case_id))
    hub.step("CaseClosed", closed(case_id, "SANCTION_IMPOSED"))

    assert types(hub, case_id)[-3:] == ["RecommendationIssued", "SanctionImposed", "CaseClosed"]


def test_not_proven_then_closed(hub: RunningHub) -> None:
    first = report()
    case_id = first["envelope"]["case_id"]
    hub.step("ReportReceived", first)
    hub.step("ReportRegistered", registration(case_id))
    hub.step("VerificationCompleted", verification(case_id, proven=False))
    hub.step("CaseClosed", closed(case_id, "NOT_PROVEN"))

    assert types(hub, case_id) == [
        "ReportReceived",
        "ReportRegistered",
        "VerificationCompleted",
        "CaseClosed",
    ]


def test_sanction_appealed_and_decided(hub: RunningHub) -> None:
    case_id = hub.open_case()
    hub.step("RecommendationIssued", recommendation(case_id))
    hub.step("SanctionImposed", sanction(case_id) | {"decree_number": "800/1/2024"})
    filed = appeal(case_id)
    hub.step("AppealFiled", filed)
    hub.step("AppealDecided", decided(case_id, filed["envelope"]["event_id"]))

    assert types(hub, case_id)[-2:] == ["AppealFiled", "AppealDecided"]


def test_ignored_recommendation_breaches_and_lets_bkn_block(hub: RunningHub) -> None:
    then = datetime.now(UTC) - timedelta(days=60)
    case_id = hub.open_case(at=then)
    early_block = blocked(case_id)
    hub.publish("PersonnelDataBlocked", early_block)
    ignored = recommendation(case_id)
    ignored["envelope"]["event_time"] = then
    hub.step("RecommendationIssued", ignored, then)

    rows = hub.wait_trail(case_id, 6)  # the timer's DeadlineBreached
    breach = hub.codec.decode(rows[5].event).record
    hub.step("PersonnelDataBlocked", blocked(case_id))

    assert rows[5].event_type == "DeadlineBreached"
    assert rows[5].source_topic == inbound_topic("kawal")
    assert breach["rule_id"] == "recommendation_follow_up"
    assert breach["responsible_institution"] == "ppk.3374"
    assert types(hub, case_id)[-1] == "PersonnelDataBlocked"
    early_id = early_block["envelope"]["event_id"]
    refused = hub.dead_letters(
        inbound_topic("bkn"),
        lambda d: hub.event_id_in(d) == early_id,
    )
    assert refused[0]["reason_code"] == "illegal_transition"
    # Blocking is no follow-up: the case still shows the PPK's follow-up overdue.
    status, _, page = http_request(f"{hub.base_url}/cases/{case_id}", hub.operator_token(), {})
    assert status == 200
    assert 'data-overdue="recommendation_follow_up"' in page.decode()
