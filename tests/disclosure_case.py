"""One case through every event that carries personal data, each value set and recognisable.

The disclosure tests follow it through the router's feeds and the trail views: a Bawaslu
Central Java report of a Semarang civil servant, referred to BKN (the recommending authority of
its period), clarified, recommended, left without follow-up until BKN blocked the personnel
data, sanctioned, objected to and appealed, then closed; and a report not registered
(:func:`rejected_report`), the one event with personal data the whole case cannot hold. Every
free-text field holds text, so every personal-data field of every event has a disclosure the
policy must decide on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from streams.domain.lifecycle import FOLLOW_UP_RULE
from tests.hubtools import (
    envelope,
    recommendation,
    referral,
    registration,
    report,
    sanction,
    verification,
)

NIP = "198501012010011001"
Step = tuple[str, dict[str, Any]]


def reported(authority: str = "bkn", at: datetime | None = None) -> list[Step]:
    """Report, registration, verification and referral to ``authority`` of a new case.

    Every step is dated ``at`` when given (an authority acts only while it holds the role).
    """
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    steps: list[Step] = [
        ("ReportReceived", first),
        ("ReportRegistered", registration(case_id)),
        ("VerificationCompleted", verification(case_id)),
        ("ReferralForwarded", referral(case_id, authority=authority)),
    ]
    return steps if at is None else [dated(step, at) for step in steps]


def dated(step: Step, at: datetime) -> Step:
    """``step`` with its event dated ``at``."""
    step[1]["envelope"]["event_time"] = at
    return step


def clarified(case_id: str, authority: str = "bkn") -> list[Step]:
    """The authority asks the PPK, which answers."""
    asked = str(uuid.uuid4())
    return [
        (
            "ClarificationRequested",
            {
                "envelope": envelope(case_id, authority, "ClarificationRequested"),
                "clarification_id": asked,
                "requested_from": "PPK",
                "addressee": "ppk.3374",
                "letter_number": f"B-{uuid.uuid4().hex[:6]}",
                "due_on": date(2024, 11, 20),
                "questions": "Confirm the posts of 1 November.",
            },
        ),
        (
            "ClarificationReceived",
            {
                "envelope": envelope(case_id, "ppk.3374", "ClarificationReceived"),
                "clarification_id": asked,
                "provided_by": "PPK",
                "received_on": date(2024, 11, 18),
                "summary": "The posts were made from a private account.",
                "document_reference": None,
            },
        ),
    ]


def breach(case_id: str, caused_by: str) -> Step:
    """The hub's DeadlineBreached of the follow-up clock ``caused_by`` started."""
    now = datetime.now(UTC)
    record = {
        "envelope": envelope(case_id, "kawal", "DeadlineBreached"),
        "rule_id": FOLLOW_UP_RULE,
        "legal_source": "configurable; 14 working days often quoted",
        "working_days": 14,
        "clock_started_at": now - timedelta(days=30),
        "due_at": now - timedelta(days=1),
        "breached_at": now,
        "responsible_institution": "ppk.3374",
        "responsible_role": "PPK",
        "caused_by_event_id": caused_by,
    }
    return "DeadlineBreached", record


def block(case_id: str, event_type: str) -> Step:
    """BKN's PersonnelDataBlocked or PersonnelDataUnblocked of the case's civil servant."""
    now = datetime.now(UTC)
    record: dict[str, Any] = {
        "envelope": envelope(case_id, "bkn", event_type),
        "blocking_reference": "SIASN/BLK/1",
        "subject_nip": NIP,
    }
    if event_type == "PersonnelDataBlocked":
        record |= {
            "reason": "RECOMMENDATION_NOT_FOLLOWED_UP",
            "employing_agency": "ppk.3374",
            "blocked_at": now,
            "breach_event_id": None,
        }
    else:
        record |= {
            "reason": "SANCTION_IMPOSED",
            "unblocked_at": now,
            "sanction_decree_number": None,
        }
    return event_type, record


def remedy(case_id: str, event_type: str) -> Step:
    """The PPK's ObjectionFiled or AppealFiled on the civil servant's behalf."""
    return event_type, {
        "envelope": envelope(case_id, "ppk.3374", event_type),
        "filed_with": "PPK_SUPERIOR" if event_type == "ObjectionFiled" else "BPASN",
        "filed_on": date(2024, 12, 2),
        "contested_decree_number": "800/1/2024",
        "appellant_nip": NIP,
        "grounds": "Out of proportion.",
    }


def decided(case_id: str, remedy: Step) -> Step:
    """The AppealDecided on ``remedy``, by the body it was filed with."""
    return "AppealDecided", {
        "envelope": envelope(case_id, "bpasn", "AppealDecided"),
        "remedy_event_id": remedy[1]["envelope"]["event_id"],
        "decided_by": remedy[1]["filed_with"],
        "decision": "UPHELD",
        "decision_number": "BPASN/1/2024",
        "decided_on": date(2024, 12, 20),
        "amended_sanction": None,
        "considerations": "The sanction fits the violation.",
    }


def closed(case_id: str, authority: str = "bkn", reason: str = "SANCTION_IMPOSED") -> Step:
    """The authority's CaseClosed, with remarks."""
    return "CaseClosed", {
        "envelope": envelope(case_id, authority, "CaseClosed"),
        "closing_reason": reason,
        "closed_on": date(2024, 12, 21),
        "final_sanction": None,
        "merged_into_case_id": None,
        "remarks": "Closed after the appeal was decided.",
    }


def rejected_report() -> list[Step]:
    """A report Bawaslu Central Java does not register, with its explanation to the reporter."""
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    return [
        ("ReportReceived", first),
        (
            "ReportRejected",
            {
                "envelope": envelope(case_id, "bawaslu.33", "ReportRejected"),
                "reason": "FILED_TOO_LATE",
                "explanation": "Reported more than 7 days after it became known.",
                "rejected_on": date(2024, 11, 4),
                "passed_to": None,
            },
        ),
    ]


def portal_report() -> list[Step]:
    """A report filed through BKN's portal: the personnel agency may receive reports too."""
    return [("ReportReceived", report("bkn"))]


def whole_case() -> list[Step]:
    """Every step of the case, from the report to its closing, in an order ingress accepts."""
    steps = reported()
    case_id = steps[0][1]["envelope"]["case_id"]
    recommended = recommendation(case_id)
    objection = remedy(case_id, "ObjectionFiled")
    appeal = remedy(case_id, "AppealFiled")
    return [
        *steps,
        *clarified(case_id),
        ("RecommendationIssued", recommended),
        breach(case_id, recommended["envelope"]["event_id"]),
        block(case_id, "PersonnelDataBlocked"),
        # The decree the objection and the appeal contest.
        ("SanctionImposed", sanction(case_id) | {"decree_number": "800/1/2024"}),
        block(case_id, "PersonnelDataUnblocked"),
        objection,
        decided(case_id, objection),
        appeal,
        decided(case_id, appeal),
        closed(case_id),
    ]
