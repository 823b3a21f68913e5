"""Demo traffic for ``kawal up --demo``: a few realistic cases from different institutions.

Case numbers are fixed, so case ids are stable and re-running the demo publishes events the
hub already has (they are answered as duplicates, never added twice).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schemas.identity import case_id_for

#: Event ids are derived from the case and step, so a second demo run sends the same events.
DEMO_NAMESPACE = uuid.UUID("0f9a4a52-4a57-4c0b-9d3f-6b61776b6177")


def _envelope(
    case_id: str, step: str, source: str, event_type: str, at: datetime
) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid5(DEMO_NAMESPACE, f"{case_id}/{step}")),
        "case_id": case_id,
        "event_type": event_type,
        "event_time": at,
        "ingest_time": None,
        "source": source,
        "actor_ref": f"actor:{source}:demo",
        "traceparent": None,
        "signature": None,
    }


def _report(source: str, number: str, at: datetime, violation: str, region: str) -> dict[str, Any]:
    case_id = case_id_for(source, number)
    return {
        "envelope": _envelope(case_id, "report", source, "ReportReceived", at),
        "case_number": number,
        "election": "pilkada-2024" if at.year == 2024 else "pemilu-2024",
        "region_code": region,
        "employing_agency": "ppk.3374",
        "violation": violation,
        "discovered_on": (at - timedelta(days=2)).date(),
        "summary": "Civil servant shared a candidate's campaign material on social media.",
        "subject_nip": "199001012015031001",
        "subject_name": "Demo Subject",
        "reporter_ref": f"reporter:{uuid.uuid5(DEMO_NAMESPACE, number).hex[:12]}",
        "reporter_identity": "Demo Reporter",
    }


def _recommendation(case_id: str, authority: str, at: datetime) -> dict[str, Any]:
    return {
        "envelope": _envelope(case_id, "recommendation", authority, "RecommendationIssued", at),
        "authority": authority,
        "proven": True,
        "violation": "DISCIPLINE_PARTISAN_SUPPORT",
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS",
        "follow_up_days": 14,
    }


def _sanction(case_id: str, at: datetime, decree: str) -> dict[str, Any]:
    return {
        "envelope": _envelope(case_id, "sanction", "ppk.3374", "SanctionImposed", at),
        "decree_number": decree,
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS",
        "effective_on": date(at.year, at.month, 1) + timedelta(days=31),
    }


def demo_waves() -> list[list[tuple[str, dict[str, Any]]]]:
    """(event type, record) pairs in waves: each wave reacts to the one before it.

    Institutions act on what they see in their outbound feeds, so a wave is published only
    once the hub has recorded the previous one.
    """
    kasn_era = datetime(2023, 12, 4, 9, 30, tzinfo=UTC)
    bkn_era = datetime(2024, 11, 18, 10, 0, tzinfo=UTC)
    first = _report(
        "bawaslu.33", "33/LP/PB/2023/017", kasn_era, "ETHICS_SOCIAL_MEDIA_CAMPAIGN", "33"
    )
    second = _report("bawaslu", "001/Reg/LP/PL/RI/2024", bkn_era, "ETHICS_CAMPAIGN_EVENT", "3374")
    third = _report(
        "bawaslu.33", "33/LP/PB/2024/042", bkn_era + timedelta(days=3), "ETHICS_BANNER", "33"
    )
    first_id = first["envelope"]["case_id"]
    second_id = second["envelope"]["case_id"]
    return [
        [("ReportReceived", first), ("ReportReceived", second), ("ReportReceived", third)],
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
