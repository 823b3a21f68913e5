"""A case walked to its referral by the lifecycle alone, for the domain tests."""

from __future__ import annotations

from streams.domain.lifecycle import CaseLifecycle, advance, start
from tests.hubtools import report, until_referral


def referred() -> tuple[CaseLifecycle, str]:
    """A new case, its findings referred to BKN (clocks as the events left them); its id."""
    first = report()
    case_id: str = first["envelope"]["case_id"]
    case = start(first, "bkn")
    for event_type, record in until_referral(case_id):
        case = advance(case, event_type, record)
    return case, case_id
