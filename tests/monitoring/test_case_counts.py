"""Counting cases for ops: clock states, recommendation follow-up, the calendar's reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest

from monitoring.cases import CaseCollector
from streams.domain.case_counts import count_cases, last_covered_year, recommendation_state
from streams.domain.deadlines import load_rules
from streams.domain.lifecycle import CaseLifecycle, Phase, advance
from tests.disclosure_case import closed
from tests.hubtools import recommended_case, sanction

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
RULES = load_rules()


def case(phase: Phase, **changes: object) -> CaseLifecycle:
    base = CaseLifecycle(
        phase=phase,
        reported_at=NOW.isoformat(),
        authority="bkn",
        reporter="bawaslu.33",
        employing_agency="ppk.3374",
        region_code="3374",
        violation="ETHICS_SOCIAL_MEDIA_CAMPAIGN",
    )
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def clock(rule: str, due: datetime, *, provisional: bool = False) -> dict[str, object]:
    return {
        "rule_id": rule,
        "started_at": (due - timedelta(days=20)).isoformat(),
        "due_at": due.isoformat(),
        "caused_by": "e1",
        "provisional": provisional,
    }


def test_clocks_are_counted_by_rule_role_and_state() -> None:
    cases = [
        case(Phase.RECOMMENDED, clocks=[clock("recommendation_follow_up", NOW - timedelta(1))]),
        case(
            Phase.REPORTED,
            clocks=[clock("report_registration", NOW + timedelta(1), provisional=True)],
        ),
        case(Phase.REGISTERED, clocks=[clock("retired_rule", NOW + timedelta(1))]),
        case(
            Phase.REPORTED,
            clocks=[
                clock("report_registration", NOW - timedelta(3))
                | {"breached_at": (NOW - timedelta(2)).isoformat()}
            ],
        ),
    ]
    counts = count_cases(cases, RULES, NOW).clocks
    assert counts["recommendation_follow_up", "PPK", "running"] == 1
    assert counts["recommendation_follow_up", "PPK", "overdue"] == 1
    assert counts["report_registration", "ELECTION_SUPERVISOR", "provisional"] == 1
    assert counts["report_registration", "ELECTION_SUPERVISOR", "overdue"] == 0
    # Its breach recorded, the registration still not done: breached, no longer running.
    assert counts["report_registration", "ELECTION_SUPERVISOR", "breached"] == 1
    assert counts["report_registration", "ELECTION_SUPERVISOR", "running"] == 1
    assert counts["retired_rule", "UNKNOWN", "untracked"] == 1
    # Every configured rule is present at zero, so the series exist before the first clock.
    assert counts["appeal_answer", "PPK", "running"] == 0
    assert counts["appeal_answer", "PPK", "breached"] == 0


def test_recommendations_by_follow_up_state() -> None:
    assert recommendation_state(case(Phase.RECOMMENDED)) == "pending"
    assert recommendation_state(case(Phase.RECOMMENDED, follow_up_breached=True)) == (
        "overdue_unblocked"
    )
    assert (
        recommendation_state(case(Phase.RECOMMENDED, follow_up_breached=True, blocked=True))
        == "overdue_blocked"
    )
    assert recommendation_state(case(Phase.SANCTIONED)) == "followed_up"
    # Not proven: no recommendation to follow up.
    assert recommendation_state(case(Phase.NOT_RECOMMENDED)) is None
    # Closed before the hub recorded the phase it was closed in: nothing to tell.
    assert recommendation_state(case(Phase.CLOSED)) is None


def test_a_closed_case_keeps_its_follow_up_state() -> None:
    """Sanction-then-close is the normal end: closing must not take a case off the count."""
    sanctioned, sanctioned_id = recommended_case()
    sanctioned = advance(sanctioned, "SanctionImposed", sanction(sanctioned_id))
    ignored, ignored_id = recommended_case()
    pending, _ = recommended_case()
    advance(sanctioned, *closed(sanctioned_id))
    advance(ignored, *closed(ignored_id, reason="SUBJECT_LEFT_SERVICE"))

    assert recommendation_state(sanctioned) == "followed_up"
    assert recommendation_state(ignored) == "closed_without_follow_up"
    counts = count_cases([sanctioned, ignored, pending], RULES, NOW).recommendations
    # As the dashboard counts them: 3 recommended, 1 followed up.
    assert sum(counts.values()) == 3
    assert counts["followed_up"] == 1


def test_the_calendar_reach_is_the_end_of_the_unbroken_covered_run() -> None:
    assert last_covered_year(lambda y: y in (2026, 2027, 2029), 2026) == 2027
    assert last_covered_year(lambda y: False, 2026) == 2025


def test_the_collector_exports_every_family_with_closed_labels() -> None:
    registry = CollectorRegistry()
    secret_case = case(Phase.RECOMMENDED, follow_up_breached=True)
    registry.register(
        CaseCollector(
            lambda: count_cases([secret_case], RULES, NOW), lambda: 2026, lambda: (1.7e9, 0.25)
        )
    )
    text = generate_latest(registry).decode()
    assert 'kawal_recommendations{state="overdue_unblocked"} 1.0' in text
    assert 'kawal_cases{phase="recommended"} 1.0' in text
    assert "kawal_calendar_last_covered_year 2026.0" in text
    assert "kawal_case_census_timestamp_seconds 1.7e+09" in text
    assert "kawal_case_census_duration_seconds 0.25" in text
    running = 'responsible="PPK",rule="recommendation_follow_up",state="running"'
    assert f"kawal_deadline_clocks{{{running}}} 0.0" in text
    # Nothing of the case itself: institutions, region, violation.
    for value in ("ppk.3374", "bawaslu.33", "3374", "ETHICS"):
        assert value not in text
