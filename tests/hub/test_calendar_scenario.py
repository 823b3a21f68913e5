"""A follow-up clock started in late December 2026 runs into 2027 on the real hub."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.hubtools import RunningHub, http_get, recommendation

#: 14 working days after Monday 21 December 2026: past the cuti bersama of 24 December,
#: Christmas, New Year's Day and Isra Mikraj on 5 January 2027; midnight Jakarta, in UTC.
DUE = datetime(2027, 1, 14, 17, 0, tzinfo=UTC)
#: Monday 21 December 2026, 09:00 WIB.
STARTED = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)


def running_deadlines(hub: RunningHub, case_id: str) -> str:
    """The deadlines line of the case's page, as the worker's case table has them."""
    status, body = http_get(f"{hub.base_url}/cases/{case_id}?lang=en", hub.operator_token())
    assert status == 200, body
    found = re.search(r"<p>Deadlines: (.*?)</p>", body.decode(), re.DOTALL)
    assert found, "the case page shows no deadlines"
    return found.group(1)


def test_follow_up_clock_started_21_december_2026_is_running_into_2027(
    hub: RunningHub,
) -> None:
    case_id = hub.open_case()
    issued = recommendation(case_id)
    issued["envelope"]["event_time"] = STARTED

    hub.step("RecommendationIssued", issued, received_at=max(datetime.now(UTC), STARTED))

    if datetime.now(UTC) < DUE:
        shown = running_deadlines(hub, case_id)
        # Midnight Jakarta: the end of 14 January, the last working day.
        assert '<span data-clock="recommendation_follow_up">' in shown
        assert "due by the end of 14 January 2027 WIB" in shown
        assert "provisional" not in shown
    else:
        # Run after the due date, the deadline timer has breached the clock at once.
        breach = hub.codec.decode(hub.wait_trail(case_id, 6)[5].event).record
        assert breach["due_at"] == DUE
