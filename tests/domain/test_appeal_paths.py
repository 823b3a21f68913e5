"""Objections go to the PPK's superior, appeals to BPASN, and each is decided by its body."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from streams.domain.lifecycle import CaseLifecycle, advance, check_transition, start
from streams.domain.reasons import Reason
from streams.domain.replayability import is_permanent
from tests.hubtools import envelope, recommendation, report, sanction, until_referral

BODY = {"ObjectionFiled": "PPK_SUPERIOR", "AppealFiled": "BPASN"}
#: The decree the PPK reported, which a remedy contests.
DECREE = "800/001/2024"


def sanctioned() -> tuple[CaseLifecycle, str]:
    first = report()
    case_id: str = first["envelope"]["case_id"]
    case = start(first, "bkn")
    for event_type, record in [
        *until_referral(case_id),
        ("RecommendationIssued", recommendation(case_id)),
        ("SanctionImposed", sanction(case_id) | {"decree_number": DECREE}),
    ]:
        case = advance(case, event_type, record)
    return case, case_id


def remedy(case_id: str, event_type: str, body: str | None = None) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "ppk.3374", event_type),
        "filed_with": body or BODY[event_type],
        "filed_on": date(2024, 11, 25),
        "contested_decree_number": DECREE,
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
    # Its own field is wrong, whatever the case holds: no replay mends it.
    assert rejection.reason is Reason.INVALID_CONTENT
    assert BODY[event_type] in rejection.detail
    assert "the sender must send a corrected event" in rejection.detail
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
    assert missing.reason is Reason.INVALID_CONTENT
    assert "amended_sanction" in missing.detail
    assert unfit is not None
    assert unfit.reason is Reason.UNFIT_SANCTION
    assert stray is not None
    assert stray.reason is Reason.INVALID_CONTENT
    assert "null" in stray.detail
    fitting = decision(case_id, filed, "AMENDED", amended_sanction=lighter_medium)
    assert check_transition(case, "AppealDecided", fitting) is None


@pytest.mark.parametrize("event_type", ["ObjectionFiled", "AppealFiled"])
def test_a_remedy_contests_the_decree_the_ppk_reported(event_type: str) -> None:
    case, case_id = sanctioned()
    elsewhere = remedy(case_id, event_type) | {"contested_decree_number": "NOT-A-DECREE/123"}

    rejection = check_transition(case, event_type, elsewhere)

    assert rejection is not None
    # A case takes one decree: no later event makes this one contest it, so replay skips it.
    assert rejection.reason is Reason.CASE_PAST_STEP
    assert is_permanent(rejection.reason.value)
    assert "contested_decree_number is not the number of the decree" in rejection.detail
    assert "NOT-A-DECREE" not in rejection.detail


def closing(case_id: str, reason: str, final: dict[str, str] | None) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bkn", "CaseClosed"),
        "closing_reason": reason,
        "closed_on": date(2024, 12, 21),
        "final_sanction": final,
        "merged_into_case_id": None,
        "remarks": None,
    }


IMPOSED = {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_6_MONTHS"}
HEAVIER = {"level": "MEDIUM", "kind": "ALLOWANCE_CUT_25_12_MONTHS"}


def decided(outcome: str, **fields: Any) -> tuple[CaseLifecycle, str]:
    """A sanctioned case whose appeal BPASN decided ``outcome``."""
    case, case_id = sanctioned()
    filed = remedy(case_id, "AppealFiled")
    case = advance(case, "AppealFiled", filed)
    return advance(case, "AppealDecided", decision(case_id, filed, outcome, **fields)), case_id


def test_a_case_closes_on_the_sanction_standing_after_its_appeal() -> None:
    upheld, upheld_id = decided("UPHELD")
    amended, amended_id = decided("AMENDED", amended_sanction=HEAVIER)

    assert (
        check_transition(upheld, "CaseClosed", closing(upheld_id, "SANCTION_IMPOSED", IMPOSED))
        is None
    )
    assert (
        check_transition(amended, "CaseClosed", closing(amended_id, "SANCTION_IMPOSED", HEAVIER))
        is None
    )
    for case, case_id, final in [(upheld, upheld_id, HEAVIER), (amended, amended_id, IMPOSED)]:
        wrong = check_transition(case, "CaseClosed", closing(case_id, "SANCTION_IMPOSED", final))
        assert wrong is not None
        assert "final_sanction is not the sanction standing" in wrong.detail


def test_a_case_whose_sanction_was_overturned_closes_without_one() -> None:
    case, case_id = decided("OVERTURNED")

    as_imposed = check_transition(case, "CaseClosed", closing(case_id, "SANCTION_IMPOSED", IMPOSED))
    no_final = check_transition(case, "CaseClosed", closing(case_id, "SANCTION_IMPOSED", None))

    assert as_imposed is not None
    assert no_final is not None
    assert "close the case as SANCTION_OVERTURNED" in as_imposed.detail
    assert (
        check_transition(case, "CaseClosed", closing(case_id, "SANCTION_OVERTURNED", None)) is None
    )


def test_a_case_value_kept_before_the_sanction_was_is_not_checked() -> None:
    case, case_id = sanctioned()
    older = CaseLifecycle.from_json({k: v for k, v in case.to_json().items() if k != "sanction"})
    assert older is not None

    elsewhere = remedy(case_id, "AppealFiled") | {"contested_decree_number": "800/9/2024"}

    assert older.sanction is None
    assert check_transition(older, "AppealFiled", elsewhere) is None
