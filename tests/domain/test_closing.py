"""When the authority may close a case: after its outcome, or earlier when it cannot go on."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from streams.domain.lifecycle import Phase, check_transition
from streams.domain.reasons import Reason
from tests.hubtools import envelope, recommended_case

#: The case a merged case names as holding its facts.
MERGED_INTO = "0b9e5d3c-6f1a-4c47-9a8e-2d7c1f4b5a60"


def closing(case_id: str, reason: str, merged_into: str | None = None) -> dict[str, Any]:
    return {
        "envelope": envelope(case_id, "bkn", "CaseClosed"),
        "closing_reason": reason,
        "closed_on": date(2024, 12, 1),
        "final_sanction": None,
        "merged_into_case_id": merged_into,
        "remarks": None,
    }


@pytest.mark.parametrize(
    ("reason", "merged_into"),
    # A fixed id: pytest-xdist's workers must collect the same test ids.
    [("SUBJECT_LEFT_SERVICE", None), ("MERGED_INTO_ANOTHER_CASE", MERGED_INTO)],
)
def test_a_case_that_cannot_go_on_is_closed_before_its_sanction(
    reason: str, merged_into: str | None
) -> None:
    case, case_id = recommended_case()

    assert case.phase is Phase.RECOMMENDED
    assert check_transition(case, "CaseClosed", closing(case_id, reason, merged_into)) is None


def test_an_open_case_is_not_closed_for_an_outcome_it_has_not_reached() -> None:
    case, case_id = recommended_case()

    rejection = check_transition(case, "CaseClosed", closing(case_id, "SANCTION_IMPOSED"))

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION
    assert "SUBJECT_LEFT_SERVICE" in rejection.detail


def test_a_merged_case_names_the_case_that_holds_its_facts() -> None:
    case, case_id = recommended_case()

    rejection = check_transition(case, "CaseClosed", closing(case_id, "MERGED_INTO_ANOTHER_CASE"))

    assert rejection is not None
    assert rejection.reason is Reason.INVALID_CONTENT
    assert "merged_into_case_id" in rejection.detail
