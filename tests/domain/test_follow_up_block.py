"""BKN blocks personnel data while a PPK ignores a recommendation, not after it acted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.domain.lifecycle import CaseLifecycle, advance, check_transition
from streams.domain.reasons import Reason
from tests.hubtools import (
    envelope,
    recommended_case,
    sanction,
)


def overdue() -> tuple[CaseLifecycle, str]:
    """A case whose follow-up DeadlineBreached the hub recorded, the PPK still silent."""
    case, case_id = recommended_case()
    case.follow_up_breached = True
    return case, case_id


def block(case_id: str) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bkn", "PersonnelDataBlocked"),
        "blocking_reference": "SIASN/BLK/1",
        "reason": "RECOMMENDATION_NOT_FOLLOWED_UP",
        "subject_nip": "198501012010011001",
        "employing_agency": "ppk.3374",
        "blocked_at": datetime.now(UTC),
        "breach_event_id": None,
    }


def test_bkn_blocks_while_the_follow_up_is_overdue() -> None:
    case, case_id = overdue()

    assert check_transition(case, "PersonnelDataBlocked", block(case_id)) is None


def test_no_block_once_the_ppk_imposed_the_sanction_however_late() -> None:
    case, case_id = overdue()
    case = advance(case, "SanctionImposed", sanction(case_id))

    rejection = check_transition(case, "PersonnelDataBlocked", block(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION
    assert "already acted" in rejection.detail
