"""A sender cannot date its event back to put another party in breach on arrival.

The recommending authority's RecommendationIssued starts the PPK's follow-up clock. Dated a
month back but recorded now, it would start that clock a month ago: the deadline timer would
sign a DeadlineBreached against a PPK that had just been told. A clock another party answers
for starts no earlier than the hub recorded its starting event; one the sender answers for
itself still starts when the sender says the event happened.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.domain.deadlines import unreported
from streams.domain.lifecycle import CaseLifecycle
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from streams.topics import DLQ
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hubtools import recommendation, registration, report, until_referral

NOW = datetime.now(UTC).replace(microsecond=0)
OPENED = NOW - timedelta(days=60)
A_MONTH_BACK = NOW - timedelta(days=30)
#: Offsets on the inbound topic, one per record.
OFFSETS = itertools.count()


@pytest.fixture
def hub(tmp_path: Path) -> Pipeline:
    return step_pipeline(tmp_path)


def send(
    hub: Pipeline, cases: CaseBatch, events: list[tuple[str, dict[str, Any], datetime]]
) -> None:
    """Each event recorded by the broker at the moment given beside it."""
    for event_type, record, received_at in events:
        message = inbound_message(hub, event_type, record, next(OFFSETS), received_at)
        assert DLQ not in [topic for topic, *_ in hub.decide(cases, message)], event_type


def referred(hub: Pipeline, cases: CaseBatch) -> str:
    """A case reported, registered, verified and referred to BKN 60 days ago; its id."""
    first = report()
    case_id: str = first["envelope"]["case_id"]
    events = [("ReportReceived", first), *until_referral(case_id)]
    for _, record in events:
        record["envelope"]["event_time"] = OPENED
    send(hub, cases, [(event_type, record, OPENED) for event_type, record in events])
    return case_id


def lifecycle(cases: CaseBatch, case_id: str) -> CaseLifecycle:
    known = cases.get(case_id)
    assert known is not None
    return known.lifecycle


def clock_of(case: CaseLifecycle, rule_id: str) -> dict[str, Any]:
    [clock] = [clock for clock in case.clocks if clock["rule_id"] == rule_id]
    return clock


def test_a_recommendation_dated_back_starts_the_ppks_clock_when_recorded(hub: Pipeline) -> None:
    cases = CaseBatch({})
    case_id = referred(hub, cases)
    backdated = recommendation(case_id, "bkn")
    backdated["envelope"]["event_time"] = A_MONTH_BACK

    send(hub, cases, [("RecommendationIssued", backdated, NOW)])

    case = lifecycle(cases, case_id)
    clock = clock_of(case, "recommendation_follow_up")
    assert datetime.fromisoformat(clock["started_at"]) == NOW
    assert datetime.fromisoformat(clock["due_at"]) > NOW + timedelta(days=14)
    assert unreported(case, NOW + timedelta(minutes=1)) == []


def test_a_recommendation_recorded_when_dated_still_runs_out(hub: Pipeline) -> None:
    cases = CaseBatch({})
    case_id = referred(hub, cases)
    issued = recommendation(case_id, "bkn")
    issued["envelope"]["event_time"] = A_MONTH_BACK

    send(hub, cases, [("RecommendationIssued", issued, A_MONTH_BACK)])

    case = lifecycle(cases, case_id)
    assert datetime.fromisoformat(clock_of(case, "recommendation_follow_up")["started_at"]) == (
        A_MONTH_BACK
    )
    assert [clock["rule_id"] for clock in unreported(case, NOW)] == ["recommendation_follow_up"]


def test_a_sender_dating_its_own_step_back_shortens_its_own_clock(hub: Pipeline) -> None:
    cases = CaseBatch({})
    first = report()
    case_id: str = first["envelope"]["case_id"]
    first["envelope"]["event_time"] = OPENED
    registered = registration(case_id)
    registered["envelope"]["event_time"] = A_MONTH_BACK

    send(hub, cases, [("ReportReceived", first, OPENED), ("ReportRegistered", registered, NOW)])

    # Bawaslu registered and answers for the verification: its own date stands.
    clock = clock_of(lifecycle(cases, case_id), "report_verification")
    assert datetime.fromisoformat(clock["started_at"]) == A_MONTH_BACK
