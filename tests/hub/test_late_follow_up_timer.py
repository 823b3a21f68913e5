"""The deadline timer reports a follow-up that came late, before it looked, once, with met_at.

The case's events pass the worker's own pipeline step, each recorded by the broker at the
moment given; the census and the timer look at the worker's table at a manual clock's time,
and what the timer sends on ``kawal.inbound.kawal`` is handed back to the step as the next
record of that topic.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import faust
import pytest

from streams.audit.entry_rows import row_from_entry
from streams.audit.figures.command import stats_view
from streams.audit.store import AuditStore
from streams.hub.case_census import CaseCensus
from streams.hub.case_scan import Pacing
from streams.hub.deadline_timer import DeadlineTimer
from streams.hub.pipeline import Outgoing, Pipeline
from streams.topics import CASE_AUDIT, DLQ
from tests.clocks import ManualClock
from tests.hub.steptools import (
    HubInbound,
    StepWorker,
    inbound_message,
    raw_message,
    step_pipeline,
)
from tests.hubtools import recommendation, report, sanction, until_referral

NOW = datetime.now(UTC).replace(microsecond=0)
#: The recommendation, 60 days ago: its 14 working days ran out weeks ago.
ISSUED = NOW - timedelta(days=60)
#: The PPK's decree, recorded an hour ago; the timer had not looked since the due date.
DECREED = NOW - timedelta(hours=1)


class Worker(StepWorker):
    """The worker's step, and the audit entries of every event recorded, as the sink stores."""

    def __init__(self, step: Pipeline) -> None:
        super().__init__(step)
        self.trail: list[dict[str, Any]] = []

    def take(self, message: faust.types.Message) -> list[Outgoing]:
        produced = super().take(message)
        assert DLQ not in {topic for topic, *_ in produced}
        self.trail += [
            self.step.codec.decode(v).record for t, _, v, _ in produced if t == CASE_AUDIT
        ]
        return produced

    def publish(self, event_type: str, record: dict[str, Any], at: datetime) -> None:
        record["envelope"]["event_time"] = at
        self.take(inbound_message(self.step, event_type, record, self.offset, at))

    def deliver(self, key: bytes, value: bytes) -> dict[str, Any]:
        """A record the timer sent, read back from ``kawal.inbound.kawal``: its audit entry."""
        where = {"envelope": {"source": "kawal", "case_id": key.decode()}}
        self.take(raw_message(self.step, where, value, self.offset))
        return self.trail[-1]


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    return Worker(step_pipeline(tmp_path))


def sanctioned_late(worker: Worker) -> str:
    """A case whose PPK imposed the sanction after the follow-up due date; its id."""
    first = report()
    case_id: str = first["envelope"]["case_id"]
    worker.publish("ReportReceived", first, ISSUED - timedelta(hours=2))
    for event_type, record in until_referral(case_id):
        worker.publish(event_type, record, ISSUED - timedelta(hours=1))
    worker.publish("RecommendationIssued", recommendation(case_id), ISSUED)
    worker.publish("SanctionImposed", sanction(case_id), DECREED)
    return case_id


def test_the_timer_reports_a_late_follow_up_once_with_when_it_came(
    worker: Worker, tmp_path: Path
) -> None:
    case_id = sanctioned_late(worker)
    clock = ManualClock(NOW)
    census = CaseCensus(worker.table, worker.step.rules.deadline_rules, clock, Pacing(pace=0.0))
    inbound = HubInbound()
    timer = DeadlineTimer(
        rules=worker.step.rules.deadline_rules,
        catalog=worker.step.rules.catalog,
        codec=worker.step.codec,
        hub_key=worker.step.hub_key,
        keys=worker.step.rules.keys,
        hub_inbound=inbound,
    )

    async def look() -> None:
        found = await census.take()
        assert found is not None
        await timer.report(found.due, found.taken_at)

    asyncio.run(look())
    asyncio.run(look())  # before the breach is back from the broker: sent once

    [(key, value)] = inbound.sent
    entry = worker.deliver(key, value)
    assert entry["event_type"] == "DeadlineBreached"
    breach = worker.step.codec.decode(entry["event"]).record
    assert breach["rule_id"] == "recommendation_follow_up"
    assert breach["met_at"] == DECREED
    assert breach["due_at"] < DECREED
    # Recorded, the breach removes the clock: the next look finds nothing to report.
    assert worker.table[case_id]["lifecycle"]["clocks"] == []
    clock.now = NOW + timedelta(days=1)
    asyncio.run(look())
    assert len(inbound.sent) == 1
    # The public statistics count the late follow-up as followed up and overdue.
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    store.create_schema()
    store.insert([row_from_entry(entry) for entry in worker.trail])
    totals = stats_view(store, worker.step.codec, min_cases=1)["totals"]
    assert (totals["followed_up"], totals["follow_up_overdue"]) == (1, 1)
