"""Demo traffic for ``kawal up --demo``: a few realistic cases from different institutions.

Two cases go report → registration → verification → referral → recommendation → sanction, one
before the transfer of KASN's functions (KASN recommends) and one after (BKN recommends); a
third is registered and awaits verification.

Case numbers are fixed, so case ids are stable; a re-run sends only the events the hub does not
hold and no earlier run sent (:mod:`streams.local.demo_publisher`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas.envelope import envelope
from schemas.errors import KawalError
from schemas.identity import case_id_for
from streams.domain.institutions import Institution
from streams.settings import Settings

#: Event ids are derived from the case and step, so a second demo run knows the events it sent.
DEMO_NAMESPACE = uuid.UUID("0f9a4a52-4a57-4c0b-9d3f-6b61776b6177")


def demo_envelope(
    case_id: str, step: str, source: str, event_type: str, at: datetime
) -> dict[str, Any]:
    """The envelope of a demo event; its id is derived from the case and the step."""
    return envelope(
        event_id=str(uuid.uuid5(DEMO_NAMESPACE, f"{case_id}/{step}")),
        case_id=case_id,
        event_type=event_type,
        event_time=at,
        source=source,
        actor_ref=f"actor:{source}:demo",
    )


def demo_report(
    source: str,
    number: str,
    at: datetime,
    violation: str,
    region: str,
    agency: str = "ppk.3374",
) -> dict[str, Any]:
    """A ReportReceived of a demo case (fictional people, fixed case number)."""
    case_id = case_id_for(source, number)
    return {
        "envelope": demo_envelope(case_id, "report", source, "ReportReceived", at),
        "case_number": number,
        "election": "pilkada-2024" if at.year == 2024 else "pemilu-2024",
        "region_code": region,
        "employing_agency": agency,
        "violation": violation,
        "discovered_on": (at - timedelta(days=2)).date(),
        "summary": "Civil servant shared a candidate's campaign material on social media.",
        "subject_nip": "199001012015031001",
        "subject_name": "Demo Subject",
        "reporter_ref": f"reporter:{uuid.uuid5(DEMO_NAMESPACE, number).hex[:24]}",
        "reporter_identity": "Demo Reporter",
    }


def demo_registration(case_id: str, source: str, at: datetime, number: str) -> dict[str, Any]:
    """The supervisor's registration of a demo report."""
    return {
        "envelope": demo_envelope(case_id, "registration", source, "ReportRegistered", at),
        "registration_number": number,
        "registered_on": at.date(),
        "needed_more_information": False,
    }


def _verification(case_id: str, source: str, at: datetime, violation: str) -> dict[str, Any]:
    return {
        "envelope": demo_envelope(case_id, "verification", source, "VerificationCompleted", at),
        "verdict": "PROVEN",
        "violation": violation,
        "verified_by": "ELECTION_SUPERVISOR",
        "completed_on": at.date(),
        "assessment_reference": f"Kajian/{at.year}/{case_id[:8]}",
        "findings": "Posts on the official's public account campaigned for a candidate pair.",
    }


def demo_referral(
    case_id: str, source: str, at: datetime, authority: str, violation: str
) -> dict[str, Any]:
    """The supervisor's referral of a demo case to the recommending authority."""
    return {
        "envelope": demo_envelope(case_id, "referral", source, "ReferralForwarded", at),
        "to_authority": authority,
        "referral_number": f"PP.01.02/{at.year}/{case_id[:6]}",
        "forwarded_on": at.date(),
        "violation": violation,
    }


def _recommendation(case_id: str, authority: str, at: datetime) -> dict[str, Any]:
    return {
        "envelope": demo_envelope(case_id, "recommendation", authority, "RecommendationIssued", at),
        "authority": authority,
        "proven": True,
        "violation": "DISCIPLINE_PARTISAN_SUPPORT",
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS",
        "follow_up_days": 14,
    }


def _sanction(case_id: str, at: datetime, decree: str) -> dict[str, Any]:
    return {
        "envelope": demo_envelope(case_id, "sanction", "ppk.3374", "SanctionImposed", at),
        "decree_number": decree,
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS",
        "effective_on": date(at.year, at.month, 1) + timedelta(days=31),
    }


def check_demo_registry(
    waves: list[list[tuple[str, dict[str, Any]]]], institutions: tuple[Institution, ...]
) -> None:
    """Refuse demo waves sent by institutions the registry in force lacks.

    The hub would refuse their events, and the demo would wait for cases that never come.
    An employing agency need not be registered: only connected PPKs are.

    Raises:
        KawalError: naming the institutions missing and what to do.
    """
    known = {institution.id for institution in institutions}
    senders = {record["envelope"]["source"] for wave in waves for _, record in wave}
    if missing := sorted(senders - known):
        raise KawalError(
            f"the demo cases are sent by {', '.join(missing)}, which the registry in force "
            "(KAWAL_INSTITUTIONS_FILE) does not have; run the demo on the shipped registry "
            "(unset KAWAL_INSTITUTIONS_FILE)"
        )


def demo_waves() -> list[list[tuple[str, dict[str, Any]]]]:
    """(event type, record) pairs in waves: each wave reacts to the one before it.

    Institutions act on what they see in their outbound feeds, so a wave is published only
    once the hub has recorded the previous one.
    """
    kasn_era = datetime(2023, 12, 4, 9, 30, tzinfo=UTC)
    bkn_era = datetime(2024, 11, 18, 10, 0, tzinfo=UTC)
    first = demo_report(
        "bawaslu.33", "33/LP/PB/2023/017", kasn_era, "ETHICS_SOCIAL_MEDIA_CAMPAIGN", "33"
    )
    second = demo_report(
        "bawaslu", "001/Reg/LP/PL/RI/2024", bkn_era, "ETHICS_CAMPAIGN_EVENT", "3374"
    )
    third = demo_report(
        "bawaslu.33", "33/LP/PB/2024/042", bkn_era + timedelta(days=3), "ETHICS_BANNER", "33"
    )
    first_id = first["envelope"]["case_id"]
    second_id = second["envelope"]["case_id"]
    third_id = third["envelope"]["case_id"]
    day = timedelta(days=1)
    return [
        [("ReportReceived", first), ("ReportReceived", second), ("ReportReceived", third)],
        [
            (
                "ReportRegistered",
                demo_registration(
                    first_id, "bawaslu.33", kasn_era + 2 * day, "017/Reg/LP/PB/33/XII/2023"
                ),
            ),
            (
                "ReportRegistered",
                demo_registration(
                    second_id, "bawaslu", bkn_era + 2 * day, "001/Reg/LP/PL/RI/XI/2024"
                ),
            ),
            (
                "ReportRegistered",
                demo_registration(
                    third_id, "bawaslu.33", bkn_era + 5 * day, "042/Reg/LP/PB/33/XI/2024"
                ),
            ),
        ],
        [
            (
                "VerificationCompleted",
                _verification(
                    first_id, "bawaslu.33", kasn_era + 8 * day, "ETHICS_SOCIAL_MEDIA_CAMPAIGN"
                ),
            ),
            (
                "VerificationCompleted",
                _verification(second_id, "bawaslu", bkn_era + 8 * day, "ETHICS_CAMPAIGN_EVENT"),
            ),
        ],
        [
            (
                "ReferralForwarded",
                demo_referral(
                    first_id,
                    "bawaslu.33",
                    kasn_era + 9 * day,
                    "kasn",
                    "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
                ),
            ),
            (
                "ReferralForwarded",
                demo_referral(
                    second_id, "bawaslu", bkn_era + 9 * day, "bkn", "ETHICS_CAMPAIGN_EVENT"
                ),
            ),
        ],
        [
            (
                "RecommendationIssued",
                _recommendation(first_id, "kasn", kasn_era + timedelta(days=20)),
            ),
            (
                "RecommendationIssued",
                _recommendation(second_id, "bkn", bkn_era + timedelta(days=16)),
            ),
        ],
        [
            ("SanctionImposed", _sanction(first_id, kasn_era + timedelta(days=41), "800/117/2024")),
            (
                "SanctionImposed",
                _sanction(second_id, bkn_era + timedelta(days=30), "800.1.6/09/2024"),
            ),
        ],
    ]


#: Seconds the demo's deadline timer leaves a clock that ran out before the hub recorded it.
DEMO_HISTORY_GRACE = 30.0


def demo_settings(settings: Settings) -> Settings:
    """``settings`` with the demo's defaults, where the operator did not give the setting.

    The demo's cases are invented: everyone may follow them. They are history, each sent whole
    within seconds: the ones left overdue are breached within a minute, not a day.
    """
    given = settings.model_fields_set
    defaults = {"public_cases": True, "history_grace_seconds": DEMO_HISTORY_GRACE}
    return settings.model_copy(update={k: v for k, v in defaults.items() if k not in given})
