"""The demo's pace: each case's plan by its id, and the simulated offices keeping to it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from connectors.authority.simulator import CASES as REGISTER
from connectors.authority.simulator import AuthoritySystem
from connectors.base import InboundConnector
from connectors.bawaslu.officers import BawasluOfficers
from connectors.demo_pace import (
    OUTCOME_CYCLE,
    REJECTIONS,
    WAITS,
    authority_wait,
    bawaslu_plan,
    ppk_wait,
)
from connectors.host import build
from connectors.ppk.database import DRAFTED, NEW
from connectors.ppk.simulator import DecreeRegistry
from schemas.catalog import default_catalog
from tests.clocks import ManualClock
from tests.connectors.test_authority import case_status, entry
from tests.connectors.test_bawaslu import webhook_bed
from tests.connectors.test_ppk_inbox import entries, inbox, the_case
from tests.hubtools import referral, report

#: Case ids enough for every outcome and wait to come up.
CASES = [f"{n:08d}-0000-5000-8000-000000000000" for n in range(200)]


def test_a_case_gets_the_same_plan_every_time_and_every_outcome_comes_up() -> None:
    plans = [bawaslu_plan(case_id) for case_id in CASES]

    assert plans == [bawaslu_plan(case_id) for case_id in CASES]
    assert {plan.outcome for plan in plans} == set(OUTCOME_CYCLE)
    assert {wait for plan in plans for wait in plan.waits} == set(WAITS)
    # Bawaslu's own reports cycle through the outcomes: four in a row show each.
    assert {bawaslu_plan(CASES[0], n).outcome for n in range(4)} == set(OUTCOME_CYCLE)


def test_every_refusal_reason_is_one_the_schema_knows() -> None:
    schema = default_catalog().schema("kawal.ReportRejectionReason")
    symbols = set(schema["symbols"])

    assert {reason for reason, _ in REJECTIONS} <= symbols - {"UNKNOWN"}


def test_the_ppk_leaves_some_recommendations_unanswered_and_the_authority_none() -> None:
    ppk = [ppk_wait(case_id) for case_id in CASES]

    assert None in ppk
    assert {wait for wait in ppk if wait is not None} == set(WAITS)
    assert {authority_wait(case_id) for case_id in CASES} == set(WAITS)


def test_the_authoritys_staff_recommend_only_once_the_cases_wait_is_over(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))
    system = AuthoritySystem.on_sqlite(
        tmp_path, seed=1, proven_share=1.0, clock=clock, wait_of=lambda _: 60.0
    )
    delivery = case_status(system)
    first = report()
    case_id = first["envelope"]["case_id"]
    delivery.deliver(entry(delivery, "ReportReceived", first, 1))
    delivery.deliver(entry(delivery, "ReferralForwarded", referral(case_id), 4))
    try:
        system.work_once()  # registers the referral
        clock.now += timedelta(seconds=59)
        system.work_once()
        waited = _statuses(system)
        clock.now += timedelta(seconds=1)
        system.work_once()
        recommended = _statuses(system)
    finally:
        delivery.close()
        system.stop()

    assert waited == ["REGISTERED"]
    assert recommended == ["RECOMMENDED"]


def _statuses(system: AuthoritySystem) -> list[str]:
    with system.engine.connect() as connection:
        return list(connection.scalars(select(REGISTER.c.status)))


def test_the_ppks_office_drafts_after_the_wait_and_never_for_one_it_leaves(
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime.now(UTC))
    waits: dict[str, float | None] = {}
    registry = DecreeRegistry.on_sqlite(
        tmp_path, seed=1, clock=clock, wait_of=lambda case_id: waits[case_id]
    )
    connector = inbox(registry)
    answered, left = (entries(connector, the_case())[0] for _ in range(2))
    waits |= {answered.case_id: 60.0, left.case_id: None}
    for recommendation in (answered, left):
        connector.deliver(recommendation)
    recorded = max(row["recorded_at"].replace(tzinfo=UTC) for row in registry.recommendations())
    try:
        clock.now = recorded + timedelta(seconds=59)
        registry.work_once()
        before = {row["case_id"]: row["status"] for row in registry.recommendations()}
        clock.now = recorded + timedelta(days=40)
        registry.work_once()
        after = {row["case_id"]: row["status"] for row in registry.recommendations()}
    finally:
        connector.close()
        registry.stop()

    assert before == {answered.case_id: NEW, left.case_id: NEW}
    assert after == {answered.case_id: DRAFTED, left.case_id: NEW}


def test_bawaslus_officers_take_their_reports_to_every_outcome_through_the_webhook(
    tmp_path: Path,
) -> None:
    with webhook_bed(tmp_path) as bed:
        officers = BawasluOfficers(bed.bawaslu, min_wait_seconds=0.0, wait_scale=0.0)
        for _ in OUTCOME_CYCLE:
            officers.record_report()
        connector = build("bawaslu-webhook", bed.config)
        assert isinstance(connector, InboundConnector)
        steps: dict[str, list[str]] = {}
        deadline = time.monotonic() + 30
        while sum(map(len, steps.values())) < 13 and time.monotonic() < deadline:
            steps = {}
            for record in connector.read(None, 100):
                for event in connector.to_events(record):
                    steps.setdefault(event.record["envelope"]["case_id"], []).append(
                        event.event_type
                    )
            time.sleep(0.1)
        verdicts = [
            e.record["verdict"]
            for r in connector.read(None, 100)
            for e in connector.to_events(r)
            if e.event_type == "VerificationCompleted"
        ]
        officers.stop()
        connector.close()

    assert sorted(map(tuple, steps.values())) == sorted(
        [
            ("ReportReceived", "ReportRegistered", "VerificationCompleted", "ReferralForwarded"),
            ("ReportReceived", "ReportRegistered", "VerificationCompleted", "ReferralForwarded"),
            ("ReportReceived", "ReportRejected"),
            ("ReportReceived", "ReportRegistered", "VerificationCompleted"),
        ]
    )
    assert sorted(verdicts) == ["NOT_PROVEN", "PROVEN", "PROVEN"]
