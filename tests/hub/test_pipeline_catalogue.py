"""The pipeline carries every event type of the catalogue, end to end on the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from schemas.catalog import default_catalog
from streams.domain.chain import verify_chain
from tests import event_samples as samples
from tests.hubtools import RunningHub, recommendation, report, sanction

#: Sample sources that are not in the bundled registry, mapped to registered institutions.
REGISTERED_SOURCE = {"bawaslu.3374": "bawaslu.33", "hub": "kawal"}


def sanctioned_path(case_id: str) -> list[Callable[[], dict[str, Any]]]:
    """A proven case through clarification, a breach, a block, a sanction and two remedies.

    Closed, then erased: erasure after closing is what retention does.
    """
    return [
        samples.report_registered,
        samples.verification_completed,
        samples.referral_forwarded,
        samples.clarification_requested,
        samples.clarification_received,
        lambda: recommendation(case_id),
        samples.deadline_breached,
        samples.personnel_data_blocked,
        samples.examination_held,
        lambda: sanction(case_id),
        samples.personnel_data_unblocked,
        samples.objection_filed,
        samples.appeal_decided,
        samples.appeal_filed,
        samples.appeal_decided,
        samples.case_closed,
        samples.personal_data_erased,
    ]


def rejected_path(case_id: str) -> list[Callable[[], dict[str, Any]]]:
    """A report the supervisor rejects, then closed by the authority."""
    return [samples.report_rejected, samples.case_closed]


def retarget(record: dict[str, Any], case_id: str) -> dict[str, Any]:
    """The sample as an event of ``case_id`` from a registered institution."""
    envelope = dict(record["envelope"])
    envelope["case_id"] = case_id
    envelope["event_id"] = str(uuid.uuid4())
    envelope["source"] = REGISTERED_SOURCE.get(envelope["source"], envelope["source"])
    # The samples are dated 2024; the case is reported now, and nothing precedes its report.
    envelope["event_time"] = datetime.now(UTC)
    return {**record, "envelope": envelope}


def run_case(
    hub: RunningHub, path: Callable[[str], list[Callable[[], dict[str, Any]]]]
) -> list[str]:
    """Report a new case, then publish each step of ``path``; return the trail's event types."""
    first = report("bawaslu.33")
    case_id: str = first["envelope"]["case_id"]
    hub.step("ReportReceived", first)
    remedy: dict[str, Any] | None = None
    decree: str | None = None
    for build in path(case_id):
        record = retarget(build(), case_id)
        if record["envelope"]["event_type"] == "SanctionImposed":
            decree = record["decree_number"]
        if record["envelope"]["event_type"] in ("ObjectionFiled", "AppealFiled"):
            # A remedy contests the decree reported for the case.
            record["contested_decree_number"] = decree
            remedy = record
        if record["envelope"]["event_type"] == "AppealDecided" and remedy is not None:
            # A decision answers the remedy pending on the case, by the body it went to.
            record |= {
                "remedy_event_id": remedy["envelope"]["event_id"],
                "decided_by": remedy["filed_with"],
            }
        hub.step(record["envelope"]["event_type"], record)
    rows = hub.store.trail(case_id)
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    assert verify_chain(rows) is None
    return [row.event_type for row in rows]


def test_every_event_type_reaches_the_trail(hub: RunningHub) -> None:
    seen = run_case(hub, sanctioned_path) + run_case(hub, rejected_path)

    assert set(seen) == set(default_catalog().event_types())
