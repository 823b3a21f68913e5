"""A small mix of cases with known statistics, driven through a real hub.

Each mix reports under its own election name, so its row of the statistics is its own however
many other cases the session's hub holds, and its personal data is unique to it, so a page or
a report can be searched for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.hubtools import (
    RunningHub,
    envelope,
    recommendation,
    report,
    sanction,
    until_referral,
)

#: What the statistics must say of one mix (see :func:`drive_mix`).
EXPECTED = {
    "reported": 3,
    "proven": 2,
    "recommended": 2,
    "followed_up": 1,
    "sanctioned": 1,
    "follow_up_overdue": 1,
}


@dataclass
class Mix:
    """The cases of one mix and the personal data its events carried."""

    election: str
    sanctioned: str = ""
    not_proven: str = ""
    ignored: str = ""
    personal: list[str] = field(default_factory=list)

    @property
    def case_ids(self) -> list[str]:
        """Every case of the mix."""
        return [self.sanctioned, self.not_proven, self.ignored]


def new_report(mix: Mix) -> dict[str, Any]:
    """A ReportReceived of the mix's election with personal data unique to it."""
    record = report()
    tag = uuid.uuid4().hex[:8]
    record |= {
        "election": mix.election,
        "subject_name": f"Subject Person {tag}",
        "subject_nip": f"1985{uuid.uuid4().int % 10**14:014d}",
        "reporter_identity": f"Reporter Person {tag}",
        "summary": f"Confidential summary {tag}",
    }
    mix.personal += [record[name] for name in ("subject_name", "subject_nip")]
    mix.personal += [record["reporter_identity"], record["summary"]]
    return record


def drive_mix(hub: RunningHub) -> Mix:
    """Three cases: sanctioned; not proven; a recommendation ignored past its deadline."""
    mix = Mix(election=f"pilkada-test-{uuid.uuid4().hex[:8]}")
    mix.sanctioned = _referred(hub, mix)
    hub.step("RecommendationIssued", recommendation(mix.sanctioned))
    hub.step("SanctionImposed", sanction(mix.sanctioned))

    mix.not_proven = _opened(hub, mix)
    steps = until_referral(mix.not_proven)[:2]
    steps[1][1]["verdict"] = "NOT_PROVEN"
    for event_type, record in steps:
        hub.step(event_type, record)

    then = datetime.now(UTC) - timedelta(days=60)
    mix.ignored = _referred(hub, mix, then)
    ignored = recommendation(mix.ignored)
    ignored["envelope"]["event_time"] = then
    # Recorded then too: the PPK's clock starts no earlier than the hub recorded the event.
    hub.step("RecommendationIssued", ignored, then)
    hub.wait_trail(mix.ignored, 6)  # the deadline timer's DeadlineBreached
    return mix


def _opened(hub: RunningHub, mix: Mix, at: datetime | None = None) -> str:
    first = new_report(mix)
    if at is not None:
        first["envelope"]["event_time"] = at
    hub.step("ReportReceived", first, at)
    case_id: str = first["envelope"]["case_id"]
    return case_id


def _referred(hub: RunningHub, mix: Mix, at: datetime | None = None) -> str:
    """A case of the mix through its referral, every step dated and recorded ``at`` if given."""
    case_id = _opened(hub, mix, at)
    for event_type, record in until_referral(case_id):
        if event_type == "VerificationCompleted":
            record["findings"] = f"Confidential findings {uuid.uuid4().hex[:8]}"
            mix.personal.append(record["findings"])
        if at is not None:
            record["envelope"]["event_time"] = at
        hub.step(event_type, record, at)
    return case_id


def appeal_decided(case_id: str, remedy_event_id: str, decision: str) -> dict[str, Any]:
    """An AppealDecided of BPASN with ``decision``."""
    return {
        "envelope": envelope(case_id, "bpasn", "AppealDecided"),
        "remedy_event_id": remedy_event_id,
        "decided_by": "BPASN",
        "decision": decision,
        "decision_number": "BPASN/1/2024",
        "decided_on": date(2024, 12, 20),
        "amended_sanction": None,
        "considerations": None,
    }
