"""Realistic sample records of the lifecycle events, one case from report to closing.

The case: a Semarang civil servant reported to Bawaslu Kota Semarang in the 2024 regional
election. ReportReceived, RecommendationIssued and SanctionImposed live in test_schemas_codec.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from schemas.envelope import envelope
from schemas.identity import case_id_for, new_event_id

UTC = dt.UTC
CASE_ID = case_id_for("bawaslu.3374", "001/LP/2024")
SUBJECT_NIP = "199001012015031001"


def _envelope(event_type: str, source: str, day: int) -> dict[str, Any]:
    return envelope(
        event_id=new_event_id(),
        case_id=CASE_ID,
        event_type=event_type,
        event_time=dt.datetime(2024, 10, day, 9, 0, 0, 250000, tzinfo=UTC),
        source=source,
        actor_ref=f"actor:{source}:7f3a",
    )


def report_registered() -> dict[str, Any]:
    return {
        "envelope": _envelope("ReportRegistered", "bawaslu.3374", 4),
        "registration_number": "001/Reg/LP/PW/Kota/14.00/X/2024",
        "registered_on": dt.date(2024, 10, 4),
        "needed_more_information": True,
    }


def report_rejected() -> dict[str, Any]:
    return {
        "envelope": _envelope("ReportRejected", "bawaslu.3374", 4),
        "reason": "FILED_TOO_LATE",
        "explanation": "Dilaporkan lebih dari 7 hari sejak diketahui.",
        "rejected_on": dt.date(2024, 10, 4),
        "passed_to": None,
    }


def verification_completed() -> dict[str, Any]:
    return {
        "envelope": _envelope("VerificationCompleted", "bawaslu.3374", 10),
        "verdict": "PROVEN",
        "violation": "DISCIPLINE_USE_OF_OFFICE_FACILITIES",
        "verified_by": "ELECTION_SUPERVISOR",
        "completed_on": dt.date(2024, 10, 10),
        "assessment_reference": "002/Kajian/PW/Kota/14.00/X/2024",
        "findings": "Used an official car at a campaign event on 1 October.",
    }


def referral_forwarded() -> dict[str, Any]:
    return {
        "envelope": _envelope("ReferralForwarded", "bawaslu.3374", 11),
        "to_authority": "bkn",
        "referral_number": "045/PP.01.02/K.JT-14/X/2024",
        "forwarded_on": dt.date(2024, 10, 11),
        "violation": "DISCIPLINE_USE_OF_OFFICE_FACILITIES",
    }


def clarification_requested() -> dict[str, Any]:
    return {
        "envelope": _envelope("ClarificationRequested", "bkn", 14),
        "clarification_id": "5b0e7c39-8f0a-4d0e-9c55-3f1a9c2e7d10",
        "requested_from": "PPK",
        "addressee": "ppk.3374",
        "letter_number": "B-1234/KK.04/X/2024",
        "due_on": dt.date(2024, 10, 21),
        "questions": "Confirm the use of vehicle H 1234 XY on 1 October.",
    }


def clarification_received() -> dict[str, Any]:
    return {
        "envelope": _envelope("ClarificationReceived", "ppk.3374", 18),
        "clarification_id": "5b0e7c39-8f0a-4d0e-9c55-3f1a9c2e7d10",
        "provided_by": "PPK",
        "received_on": dt.date(2024, 10, 18),
        "summary": "The vehicle was used outside working hours without permission.",
        "document_reference": "800/567/2024",
    }


def examination_held() -> dict[str, Any]:
    return {
        "envelope": _envelope("ExaminationHeld", "ppk.3374", 28),
        "examination_team": {
            "includes_direct_superior": True,
            "includes_inspectorate": True,
            "includes_personnel_unit": True,
            "inspectorate": "inspektorat.3374",
            "member_refs": ["member:ppk.3374:01", "member:inspektorat.3374:02"],
        },
        "held_on": dt.date(2024, 10, 28),
        "minutes_reference": "BAP/800/021/2024",
        "subject_attended": True,
    }


def deadline_breached() -> dict[str, Any]:
    return {
        "envelope": _envelope("DeadlineBreached", "hub", 30),
        "rule_id": "recommendation_follow_up",
        "legal_source": "configurable; 14 working days often quoted",
        "working_days": 14,
        "clock_started_at": dt.datetime(2024, 10, 9, 9, 0, tzinfo=UTC),
        "due_at": dt.datetime(2024, 10, 29, 17, 0, tzinfo=UTC),
        "breached_at": dt.datetime(2024, 10, 30, 0, 0, 0, 1000, tzinfo=UTC),
        "responsible_institution": "ppk.3374",
        "responsible_role": "PPK",
        "caused_by_event_id": "0b1f3c1e-2a4d-4e6f-8a9b-0c1d2e3f4a5b",
        "met_at": None,
    }


def personnel_data_blocked() -> dict[str, Any]:
    return {
        "envelope": _envelope("PersonnelDataBlocked", "bkn", 31),
        "blocking_reference": "SIASN-BLK-2024-000123",
        "reason": "RECOMMENDATION_NOT_FOLLOWED_UP",
        "subject_nip": SUBJECT_NIP,
        "employing_agency": "ppk.3374",
        "blocked_at": dt.datetime(2024, 10, 31, 10, 15, tzinfo=UTC),
        "breach_event_id": "6f1c2d3e-4b5a-4c6d-9e8f-7a6b5c4d3e2f",
    }


def personnel_data_unblocked() -> dict[str, Any]:
    return {
        "envelope": _envelope("PersonnelDataUnblocked", "bkn", 31),
        "blocking_reference": "SIASN-BLK-2024-000123",
        "reason": "SANCTION_IMPOSED",
        "subject_nip": SUBJECT_NIP,
        "unblocked_at": dt.datetime(2024, 10, 31, 15, 45, tzinfo=UTC),
        "sanction_decree_number": "800/123/2024",
    }


def objection_filed() -> dict[str, Any]:
    return {
        "envelope": _envelope("ObjectionFiled", "ppk.3374", 25),
        "filed_with": "PPK_SUPERIOR",
        "filed_on": dt.date(2024, 10, 25),
        "contested_decree_number": "800/123/2024",
        "appellant_nip": SUBJECT_NIP,
        "grounds": "The vehicle was lent by a colleague; no campaign material was carried.",
    }


def appeal_filed() -> dict[str, Any]:
    return {
        "envelope": _envelope("AppealFiled", "ppk.3374", 25),
        "filed_with": "BPASN",
        "filed_on": dt.date(2024, 10, 25),
        "contested_decree_number": "800/124/2024",
        "appellant_nip": SUBJECT_NIP,
        "grounds": "Discharge is out of proportion to a single use of a vehicle.",
    }


def appeal_decided() -> dict[str, Any]:
    return {
        "envelope": _envelope("AppealDecided", "bpasn", 29),
        "remedy_event_id": "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a",
        "decided_by": "BPASN",
        "decision": "AMENDED",
        "decision_number": "BPASN/045/X/2024",
        "decided_on": dt.date(2024, 10, 29),
        "amended_sanction": {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_12_MONTHS"},
        "considerations": None,
    }


def case_closed() -> dict[str, Any]:
    return {
        "envelope": _envelope("CaseClosed", "bkn", 31),
        "closing_reason": "SANCTION_IMPOSED",
        "closed_on": dt.date(2024, 10, 31),
        "final_sanction": {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_12_MONTHS"},
        "merged_into_case_id": None,
        "remarks": None,
    }


def personal_data_erased() -> dict[str, Any]:
    return {
        "envelope": _envelope("PersonalDataErased", "kawal", 31),
        "reason": "erasure request 2024/031 under Law 27/2022",
        "retention_rule": None,
        "erased_at": dt.datetime(2024, 10, 31, 10, 0, 0, 500000, tzinfo=UTC),
    }


#: Sample builders of the events added with the full lifecycle, by full name.
LIFECYCLE_SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    f"kawal.events.{builder.__name__.title().replace('_', '')}": builder
    for builder in (
        report_registered,
        report_rejected,
        verification_completed,
        referral_forwarded,
        clarification_requested,
        clarification_received,
        examination_held,
        deadline_breached,
        personnel_data_blocked,
        personnel_data_unblocked,
        objection_filed,
        appeal_filed,
        appeal_decided,
        case_closed,
        personal_data_erased,
    )
}
