"""Nothing happens to a case before its report: an event dated earlier is refused.

Dated before the report, a registration would start the verification clock, and count in the
dashboard's handling times, from before the case existed. The senders' clocks may drift by
:data:`streams.hub.event_times.CLOCK_SKEW` either way.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streams.domain.lifecycle import Phase
from streams.hub.case_table import CaseBatch, CaseRecord
from streams.hub.event_times import CLOCK_SKEW
from streams.hub.pipeline import Pipeline
from streams.topics import DLQ, outbound_topic
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hubtools import registration, report

REPORTED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
OFFSETS = itertools.count()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return step_pipeline(tmp_path_factory.mktemp("hub"))


def reported(hub: Pipeline, cases: CaseBatch) -> str:
    """A case reported ten days ago; its id."""
    first = report()
    first["envelope"]["event_time"] = REPORTED
    message = inbound_message(hub, "ReportReceived", first, next(OFFSETS), REPORTED)
    assert DLQ not in [topic for topic, *_ in hub.decide(cases, message)]
    case_id: str = first["envelope"]["case_id"]
    return case_id


def registered_at(hub: Pipeline, moment: datetime) -> tuple[CaseRecord | None, list[Any]]:
    """A freshly reported case after a registration dated ``moment``, and what it produced."""
    cases = CaseBatch({})
    case_id = reported(hub, cases)
    record = registration(case_id)
    record["envelope"]["event_time"] = moment
    message = inbound_message(hub, "ReportRegistered", record, next(OFFSETS), datetime.now(UTC))
    produced = hub.decide(cases, message)
    return cases.get(case_id), produced


def test_an_event_dated_before_its_cases_report_is_refused(hub: Pipeline) -> None:
    case, produced = registered_at(hub, REPORTED - CLOCK_SKEW - timedelta(minutes=1))

    [letter] = [value for topic, _, value, _ in produced if topic == DLQ]
    sender = registration("any")["envelope"]["source"]
    receipts = [value for topic, _, value, _ in produced if topic == outbound_topic(sender)]
    codec = hub.codec
    refused = codec.decode(letter).record
    assert refused["reason_code"] == "event_before_report"
    assert "before the case's report was dated" in refused["reason"]
    assert "0:06:00" in refused["reason"]  # how early, so the sender can find its clock's error
    [receipt] = [codec.decode(value).record for value in receipts]
    assert (receipt["status"], receipt["reason_code"]) == ("REJECTED", "event_before_report")
    assert case is not None
    assert case.lifecycle.phase is Phase.REPORTED


def test_an_event_dated_within_the_clocks_drift_before_the_report_is_accepted(
    hub: Pipeline,
) -> None:
    case, produced = registered_at(hub, REPORTED - CLOCK_SKEW + timedelta(seconds=1))

    assert DLQ not in [topic for topic, *_ in produced]
    assert case is not None
    assert case.lifecycle.phase is Phase.REGISTERED
