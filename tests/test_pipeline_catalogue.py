"""The pipeline carries every event type of the catalogue, end to end on the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from schemas.catalog import default_catalog
from streams.chain import verify_chain
from tests import event_samples as samples
from tests.hubtools import RunningHub, recommendation, report, sanction

#: Sample sources that are not in the bundled registry, mapped to registered institutions.
REGISTERED_SOURCE = {"bawaslu.3374": "bawaslu.33", "hub": "kawal"}


def lifecycle(case_id: str) -> list[Callable[[], dict[str, Any]]]:
    """One builder per event type, in lifecycle order."""
    return [
        samples.report_registered,
        samples.report_rejected,
        samples.verification_completed,
        samples.referral_forwarded,
        samples.clarification_requested,
        samples.clarification_received,
        lambda: recommendation(case_id),
        samples.examination_held,
        lambda: sanction(case_id),
        samples.deadline_breached,
        samples.personnel_data_blocked,
        samples.personnel_data_unblocked,
        samples.objection_filed,
        samples.appeal_filed,
        samples.appeal_decided,
        samples.case_closed,
    ]


def retarget(record: dict[str, Any], case_id: str) -> dict[str, Any]:
    """The sample as an event of ``case_id`` from a registered institution."""
    envelope = dict(record["envelope"])
    envelope["case_id"] = case_id
    envelope["event_id"] = str(uuid.uuid4())
    envelope["source"] = REGISTERED_SOURCE.get(envelope["source"], envelope["source"])
    return {**record, "envelope": envelope}


def test_every_event_type_reaches_the_trail(hub: RunningHub) -> None:
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    hub.publish("ReportReceived", first)
    hub.wait_trail(case_id, 1)

    for index, build in enumerate(lifecycle(case_id), start=2):
        record = retarget(build(), case_id)
        hub.publish(record["envelope"]["event_type"], record)
        hub.wait_trail(case_id, index)

    rows = hub.store.trail(case_id)
    assert {row.event_type for row in rows} == set(default_catalog().event_types())
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    assert verify_chain(rows) is None
