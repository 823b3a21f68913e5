"""The follow-up clock runs the working days the recommendation gives the PPK."""

from __future__ import annotations

from datetime import UTC, date, datetime

from streams.domain.calendar import load_calendar
from streams.domain.deadlines import breach_event, due_instant, load_rules, update_clocks
from streams.domain.lifecycle import CaseLifecycle, check_transition
from streams.domain.reasons import Reason
from tests.domain.referred_cases import referred
from tests.hubtools import recommendation

CALENDAR, RULES = load_calendar(), load_rules()
#: Monday 11 November 2024, 10:00 Jakarta.
ISSUED = datetime(2024, 11, 11, 3, tzinfo=UTC)


def _referred_without_clocks() -> tuple[CaseLifecycle, str]:
    case, case_id = referred()
    case.clocks = []
    return case, case_id


def test_the_follow_up_clock_runs_the_days_the_recommendation_gives() -> None:
    case, case_id = _referred_without_clocks()
    issued = recommendation(case_id) | {"follow_up_days": 30}
    issued["envelope"]["event_time"] = ISSUED

    update_clocks(case, RULES, CALENDAR, "RecommendationIssued", issued)

    [clock] = case.clocks
    # 30 working days from Monday 11 November 2024, skipping 27 November (regional elections):
    # the last is Tuesday 24 December; the rule's own 14 would have ended on 29 November.
    assert clock["due_at"] == due_instant(date(2024, 12, 24)).isoformat()
    breach = breach_event(case_id, case, clock, RULES["recommendation_follow_up"], ISSUED)
    assert breach["working_days"] == 30


def test_a_recommendation_giving_no_working_day_is_refused() -> None:
    case, case_id = _referred_without_clocks()

    rejection = check_transition(
        case, "RecommendationIssued", recommendation(case_id) | {"follow_up_days": 0}
    )

    assert rejection is not None
    assert rejection.reason is Reason.INVALID_CONTENT
    assert "follow_up_days" in rejection.detail
