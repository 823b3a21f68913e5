"""A generated mix of demo cases, so that the dashboard and the triage view have figures to show.

Deterministic (a seeded generator and fixed case numbers), so a second ``kawal up --demo``
has the same events, and sends none the hub holds or an earlier run sent. The cases are
reported between October and December 2024 (BKN's period as recommending authority) in four
regions; each goes as far as its outcome: only reported, registered, not registered, not
proven, proven, recommended, or sanctioned by its PPK. Only ``ppk.3374`` is a connected PPK,
so only its cases are sanctioned through the hub; the recommendations to the others stay
without follow-up, which is what the dashboard's follow-up rate per PPK is there to show.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.local.demo import demo_envelope, demo_referral, demo_registration, demo_report

#: (region code, employing agency, reporting supervisor) of the mix's cases.
PLACES = (
    ("3374", "ppk.3374", "bawaslu.33"),
    ("3301", "ppk.3301", "bawaslu.33"),
    ("3374", "ppk.3374", "bawaslu.33"),
    ("5171", "ppk.5171", "bawaslu"),
    ("3374", "ppk.3374", "bawaslu"),
    ("7371", "ppk.7371", "bawaslu"),
)
VIOLATIONS = (
    "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
    "ETHICS_PHOTO_WITH_CANDIDATE",
    "ETHICS_CAMPAIGN_EVENT",
    "DISCIPLINE_CAMPAIGN_PARTICIPATION",
    "DISCIPLINE_USE_OF_OFFICE_FACILITIES",
    "DISCIPLINE_MOBILIZING_CIVIL_SERVANTS",
)
#: How far each case goes (cycled over the cases).
OUTCOMES = (
    "sanctioned",
    "recommended",
    "proven",
    "not_proven",
    "sanctioned",
    "registered",
    "rejected",
    "reported",
    "recommended",
    "sanctioned",
)
CASES = 28
FIRST_DAY = datetime(2024, 10, 7, 2, 0, tzinfo=UTC)
SEED = 2024

Wave = list[tuple[str, dict[str, Any]]]


def mix_waves() -> list[Wave]:
    """The mix's events in waves: the first step of every case, then the second, ..."""
    rng = random.Random(SEED)  # noqa: S311 (reproducible demo data, not a secret)
    steps = [_case(number, rng) for number in range(1, CASES + 1)]
    depth = max(len(case) for case in steps)
    return [[case[k] for case in steps if k < len(case)] for k in range(depth)]


def _case(number: int, rng: random.Random) -> Wave:
    region, agency, supervisor = PLACES[number % len(PLACES)]
    violation = VIOLATIONS[rng.randrange(len(VIOLATIONS))]
    outcome = OUTCOMES[number % len(OUTCOMES)]
    if outcome == "sanctioned" and agency != "ppk.3374":
        outcome = "recommended"
    at = FIRST_DAY + timedelta(days=2 * number, hours=rng.randrange(0, 10))
    report = demo_report(
        supervisor, f"MIX/LP/2024/{number:03d}", at, violation, region, agency=agency
    )
    case_id = report["envelope"]["case_id"]
    events: Wave = [("ReportReceived", report)]
    for event_type, builder in _STEPS[outcome]:
        at += timedelta(days=rng.randrange(1, 6), hours=rng.randrange(0, 6))
        events.append((event_type, builder(case_id, supervisor, at, violation)))
    return events


def _registered(case_id: str, source: str, at: datetime, violation: str) -> dict[str, Any]:
    return demo_registration(case_id, source, at, f"Reg/{case_id[:8]}")


def _rejected(case_id: str, source: str, at: datetime, violation: str) -> dict[str, Any]:
    return {
        "envelope": demo_envelope(case_id, "rejection", source, "ReportRejected", at),
        "reason": "MATERIAL_REQUIREMENTS_NOT_MET",
        "explanation": "The report names no time or place of the alleged violation.",
        "rejected_on": at.date(),
        "passed_to": None,
    }


def _verified(verdict: str) -> Any:
    def build(case_id: str, source: str, at: datetime, violation: str) -> dict[str, Any]:
        return {
            "envelope": demo_envelope(case_id, "verification", source, "VerificationCompleted", at),
            "verdict": verdict,
            "violation": violation,
            "verified_by": "ELECTION_SUPERVISOR",
            "completed_on": at.date(),
            "assessment_reference": f"Kajian/2024/{case_id[:8]}",
            "findings": "Assessed from the report's evidence and the clarifications.",
        }

    return build


def _referred(case_id: str, source: str, at: datetime, violation: str) -> dict[str, Any]:
    return demo_referral(case_id, source, at, "bkn", violation)


def _recommended(case_id: str, source: str, at: datetime, violation: str) -> dict[str, Any]:
    level, kind = _sanction_of(violation)
    return {
        "envelope": demo_envelope(case_id, "recommendation", "bkn", "RecommendationIssued", at),
        "authority": "bkn",
        "proven": True,
        "violation": violation,
        "sanction_level": level,
        "sanction_kind": kind,
        "follow_up_days": 14,
    }


def _sanctioned(case_id: str, source: str, at: datetime, violation: str) -> dict[str, Any]:
    level, kind = _sanction_of(violation)
    return {
        "envelope": demo_envelope(case_id, "sanction", "ppk.3374", "SanctionImposed", at),
        "decree_number": f"800/{case_id[:6]}/2024",
        "sanction_level": level,
        "sanction_kind": kind,
        "effective_on": (at + timedelta(days=30)).date(),
    }


def _sanction_of(violation: str) -> tuple[str, str]:
    if violation.startswith("ETHICS_"):
        return "ETHICS_MORAL", "MORAL_OPEN_STATEMENT"
    return "MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS"


_PROVEN = (("ReportRegistered", _registered), ("VerificationCompleted", _verified("PROVEN")))
_RECOMMENDED = (*_PROVEN, ("ReferralForwarded", _referred), ("RecommendationIssued", _recommended))
_STEPS: dict[str, tuple[tuple[str, Any], ...]] = {
    "reported": (),
    "registered": (("ReportRegistered", _registered),),
    "rejected": (("ReportRejected", _rejected),),
    "not_proven": (
        ("ReportRegistered", _registered),
        ("VerificationCompleted", _verified("NOT_PROVEN")),
    ),
    "proven": _PROVEN,
    "recommended": _RECOMMENDED,
    "sanctioned": (*_RECOMMENDED, ("SanctionImposed", _sanctioned)),
}
