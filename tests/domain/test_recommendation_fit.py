"""A recommendation must fit the violation it decides on, as a sanction must (DOMAIN.md)."""

from __future__ import annotations

from typing import Any

import pytest

from streams.domain.lifecycle import check_transition
from streams.domain.reasons import Reason
from tests.domain.referred_cases import referred
from tests.hubtools import recommendation


@pytest.mark.parametrize(
    ("violation", "level", "kind", "why"),
    [
        # Supporting a candidate is a medium-to-heavy discipline breach.
        ("DISCIPLINE_PARTISAN_SUPPORT", "LIGHT", "ORAL_REPRIMAND", "medium-to-heavy"),
        # A kind of another level than the one recommended.
        ("DISCIPLINE_PARTISAN_SUPPORT", "HEAVY", "ALLOWANCE_CUT_25_6_MONTHS", "not a HEAVY"),
        # An ethics breach takes a moral sanction (PP 42/2004).
        ("ETHICS_BANNER", "MEDIUM", None, "moral sanction"),
        # A proven violation with no sanction level recommended.
        ("DISCIPLINE_PARTISAN_SUPPORT", None, None, "recommend a sanction level"),
        # A proven violation of no category: no sanction can be checked against it.
        ("UNKNOWN", "HEAVY", "DEMOTION_12_MONTHS", "name the violation category"),
    ],
)
def test_an_unfit_proven_recommendation_is_refused(
    violation: str, level: str | None, kind: str | None, why: str
) -> None:
    case, case_id = referred()
    unfit: dict[str, Any] = recommendation(case_id) | {
        "violation": violation,
        "sanction_level": level,
        "sanction_kind": kind,
    }

    rejection = check_transition(case, "RecommendationIssued", unfit)

    assert rejection is not None
    assert rejection.reason is Reason.UNFIT_SANCTION
    assert why in rejection.detail


@pytest.mark.parametrize(
    ("violation", "level", "kind"),
    [
        ("DISCIPLINE_PARTISAN_SUPPORT", "MEDIUM", "ALLOWANCE_CUT_25_6_MONTHS"),
        ("DISCIPLINE_PARTISAN_SUPPORT", "HEAVY", None),  # the kind left to the PPK
        ("ETHICS_BANNER", "ETHICS_MORAL", "MORAL_OPEN_STATEMENT"),
    ],
)
def test_a_fitting_recommendation_is_taken(violation: str, level: str, kind: str | None) -> None:
    case, case_id = referred()
    fitting = recommendation(case_id) | {
        "violation": violation,
        "sanction_level": level,
        "sanction_kind": kind,
    }

    assert check_transition(case, "RecommendationIssued", fitting) is None


def test_a_not_proven_recommendation_recommends_no_sanction() -> None:
    case, case_id = referred()
    cleared = recommendation(case_id) | {"proven": False}
    plain = cleared | {"sanction_level": None, "sanction_kind": None}

    rejection = check_transition(case, "RecommendationIssued", cleared)

    assert rejection is not None
    assert rejection.reason is Reason.UNFIT_SANCTION
    assert "sanction_kind as null" in rejection.detail
    assert check_transition(case, "RecommendationIssued", plain) is None
