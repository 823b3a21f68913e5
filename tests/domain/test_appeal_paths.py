"""Objections go to the PPK's superior, appeals to BPASN, and each is decided by its body."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from streams.domain.lifecycle import CaseLifecycle, advance, check_transition, start
from streams.domain.reasons import Reason
from tests.hubtools import envelope, recommendation, report, sanction, until_referral

BODY = {"ObjectionFiled": "PPK_SUPERIOR", "AppealFiled": "BPASN"}


def sanctioned() -> tuple[CaseLifecycle, str]:
    first = report()
    case_id: str = first["envelope"]["case_id"]
    case = start(first, "bkn")
    for event_type, record in [
        *until_referral(case_id),
        ("RecommendationIssued", recommendation(case_id)),
        ("SanctionImposed", sanction(case_id)),
    ]:
        case = advance(case, event_type, record)
    return case, case_id


def remedy(case_id: str, event_type: str, body: str | None = None) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "ppk.3374", event_type),
        "filed_with": body or BODY[event_type],
        "filed_on": date(2024, 11, 25),
        "contested_decree_number": "800/001/2024",
        "appellant_nip": "198501012010011001",
        "grounds": "The facts were misread.",
    }


def decision(
    case_id: str, filed: dict[str, Any], decision: str = "UPHELD", **fields: Any
) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bpasn", "AppealDecided"),
        "remedy_event_id": filed["envelope"]["event_id"],
        "decided_by": filed["filed_with"],
        "decision": decision,
        "decision_number": "BPASN/001/2024",
        "decided_on": date(2024, 12, 20),
        "amended_sanction": None,
        "considerations": None,
    } | fields


@pytest.mark.parametrize(
    ("event_type", "wrong_body"), [("ObjectionFiled", "BPASN"), ("AppealFiled", "PPK_SUPERIOR")]
)
def test_a_remedy_goes_to_its_own_body(event_type: str, wrong_body: str) -> None:
    case, case_id = sanctioned()

    rejection = check_transition(case, event_type, remedy(case_id, event_type, wrong_body))

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION
    assert BODY[event_type] in rejection.detail
    assert check_transition(case, event_type, remedy(case_id, event_type)) is None


def test_a_decision_answers_the_pending_remedy_by_the_body_it_was_filed_with() -> None:
    case, case_id = sanctioned()
    filed = remedy(case_id, "AppealFiled")
    case = advance(case, "AppealFiled", filed)
    other = decision(case_id, filed, remedy_event_id=str(uuid.uuid4()))
    wrong_body = decision(case_id, filed, decided_by="PPK_SUPERIOR")

    for refused in (other, wrong_body):
        rejection = check_transition(case, "AppealDecided", refused)
        assert rejection is not None
        assert rejection.reason is Reason.ILLEGAL_TRANSITION
    assert check_transition(case, "AppealDecided", decision(case_id, filed)) is None


def test_an_amended_sanction_must_be_given_and_fit_the_violation() -> None:
    case, case_id = sanctioned()
    filed = remedy(case_id, "ObjectionFiled")
    case = advance(case, "ObjectionFiled", filed)
    light = {"level": "LIGHT", "kind": "WRITTEN_REPRIMAND"}
    lighter_medium = {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_6_MONTHS"}

    missing = check_transition(case, "AppealDecided", decision(case_id, filed, "AMENDED"))
    unfit = check_transition(
        case, "AppealDecided", decision(case_id, filed, "AMENDED", amended_sanction=light)
    )
    stray = check_transition(
        case, "AppealDecided", decision(case_id, filed, "UPHELD", amended_sanction=light)
    )

    assert missing is not None
    assert "amended_sanction" in missing.detail
    assert unfit is not None
    assert unfit.reason is Reason.UNFIT_SANCTION
    assert stray is not None
    assert "null" in stray.detail
    fitting = decision(case_id, filed, "AMENDED", amended_sanction=lighter_medium)
    assert check_transition(case, "AppealDecided", fitting) is None
