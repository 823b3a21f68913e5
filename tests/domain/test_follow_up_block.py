"""BKN blocks personnel data while a PPK ignores a recommendation, not after it acted.

A closed case takes the lifting of a block it holds, and nothing else new.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.domain.lifecycle import CaseLifecycle, Phase, advance, check_transition
from streams.domain.reasons import Reason
from tests.disclosure_case import closed
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
    # The case never returns to recommended: replay skips it.
    assert rejection.reason is Reason.CASE_PAST_STEP
    assert "already acted" in rejection.detail
    # BKN's SIASN may hold the block: the refusal says what to check.
    assert "check that SIASN shows this case's block released" in rejection.detail


def test_the_lifting_of_a_block_the_hub_refused_says_what_to_check() -> None:
    case, case_id = overdue()
    case = advance(case, "SanctionImposed", sanction(case_id))

    rejection = check_transition(
        case, "PersonnelDataUnblocked", unblock(case_id, "SANCTION_IMPOSED")
    )

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION
    assert "not blocked as the hub recorded it" in rejection.detail
    assert "check that SIASN shows the block released" in rejection.detail


def unblock(case_id: str, reason: str = "CASE_CLOSED") -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bkn", "PersonnelDataUnblocked"),
        "blocking_reference": "SIASN/BLK/1",
        "reason": reason,
        "subject_nip": "198501012010011001",
        "unblocked_at": datetime.now(UTC),
        "sanction_decree_number": None,
    }


def blocked_then_closed(reason: str = "SUBJECT_LEFT_SERVICE") -> tuple[CaseLifecycle, str]:
    """An overdue case BKN blocked, then closed while the block stands."""
    case, case_id = overdue()
    case = advance(case, "PersonnelDataBlocked", block(case_id))
    _, closing = closed(case_id, reason=reason)
    assert check_transition(case, "CaseClosed", closing) is None
    return advance(case, "CaseClosed", closing), case_id


def test_a_closed_case_records_the_lifting_of_the_block_it_holds() -> None:
    case, case_id = blocked_then_closed()

    assert check_transition(case, "PersonnelDataUnblocked", unblock(case_id)) is None
    case = advance(case, "PersonnelDataUnblocked", unblock(case_id))
    assert case.phase is Phase.CLOSED
    assert not case.blocked


def test_a_lifting_on_the_sanction_reported_after_the_closing_is_recorded() -> None:
    case, case_id = overdue()
    case = advance(case, "PersonnelDataBlocked", block(case_id))
    case = advance(case, "SanctionImposed", sanction(case_id))
    case = advance(case, "CaseClosed", closed(case_id)[1])

    lifted = unblock(case_id, reason="SANCTION_IMPOSED")
    assert check_transition(case, "PersonnelDataUnblocked", lifted) is None


def test_a_closed_case_refuses_a_second_lifting() -> None:
    case, case_id = blocked_then_closed()
    case = advance(case, "PersonnelDataUnblocked", unblock(case_id))

    rejection = check_transition(case, "PersonnelDataUnblocked", unblock(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_CLOSED
    assert "not blocked" in rejection.detail


def test_a_closed_case_refuses_a_lifting_of_no_block() -> None:
    case, case_id = recommended_case()
    case = advance(case, "CaseClosed", closed(case_id, reason="SUBJECT_LEFT_SERVICE")[1])

    rejection = check_transition(case, "PersonnelDataUnblocked", unblock(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_CLOSED
    assert "not blocked" in rejection.detail


def test_a_closed_case_refuses_a_block() -> None:
    case, case_id = overdue()
    case = advance(case, "CaseClosed", closed(case_id, reason="SUBJECT_LEFT_SERVICE")[1])

    rejection = check_transition(case, "PersonnelDataBlocked", block(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_CLOSED


def test_a_closed_case_holding_a_block_refuses_every_other_event() -> None:
    case, case_id = blocked_then_closed()

    rejection = check_transition(case, "SanctionImposed", sanction(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_CLOSED


def test_an_erased_case_refuses_the_lifting_of_its_block() -> None:
    case, case_id = blocked_then_closed()
    case.erased_at = datetime.now(UTC).isoformat()

    rejection = check_transition(case, "PersonnelDataUnblocked", unblock(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_CLOSED
    assert "erased" in rejection.detail
