"""Ingress hands a KASN case over to BKN with its first event after the transfer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.codec import Decoded
from streams.domain.lifecycle import CaseLifecycle
from streams.hub.ingress import CaseRules, admit
from tests.hub.steptools import step_pipeline
from tests.hubtools import recommendation, referral, registration, report, verification

BEFORE = datetime(2024, 9, 10, 3, tzinfo=UTC)
AFTER = datetime(2024, 11, 11, 3, tzinfo=UTC)


def dated(record: dict[str, Any], moment: datetime) -> Decoded:
    record["envelope"]["event_time"] = moment
    return Decoded(f"kawal.events.{record['envelope']['event_type']}", record)


def verified_before_the_transfer(rules: CaseRules) -> tuple[CaseLifecycle, str]:
    """A case reported, registered and verified while KASN held the role; its id."""
    first = report()
    case_id: str = first["envelope"]["case_id"]
    case: CaseLifecycle | None = None
    for decoded in (
        dated(first, BEFORE),
        dated(registration(case_id), BEFORE),
        dated(verification(case_id), BEFORE),
    ):
        admitted = admit(rules, decoded, case, {})
        assert isinstance(admitted, CaseLifecycle)
        case = admitted
    assert case is not None
    return case, case_id


def test_the_first_event_after_the_transfer_hands_a_kasn_case_to_bkn(tmp_path: Path) -> None:
    rules = step_pipeline(tmp_path).rules
    case, case_id = verified_before_the_transfer(rules)
    assert case.authority == "kasn"

    handed_over = admit(rules, dated(referral(case_id, authority="bkn"), AFTER), case, {})
    assert isinstance(handed_over, CaseLifecycle)
    stale = admit(rules, dated(recommendation(case_id, "kasn"), AFTER), handed_over, {})
    taken = admit(rules, dated(recommendation(case_id, "bkn"), AFTER), handed_over, {})

    assert handed_over.authority == "bkn"
    assert not isinstance(stale, CaseLifecycle)
    assert stale.reason == "unauthorized_sender"
    assert isinstance(taken, CaseLifecycle)


def test_a_late_event_dated_before_the_transfer_never_hands_the_case_back(tmp_path: Path) -> None:
    rules = step_pipeline(tmp_path).rules
    verified, case_id = verified_before_the_transfer(rules)
    case = admit(rules, dated(referral(case_id, authority="bkn"), AFTER), verified, {})
    assert isinstance(case, CaseLifecycle)

    # KASN's recommendation dated before its dissolution, arriving once BKN holds the case.
    late = admit(rules, dated(recommendation(case_id, "kasn"), BEFORE), case, {})
    backdated = admit(rules, dated(recommendation(case_id, "bkn"), BEFORE), case, {})

    assert not isinstance(late, CaseLifecycle)
    assert late.reason == "unauthorized_sender"
    assert "bkn does (data/authority.toml)" in late.detail
    assert isinstance(backdated, CaseLifecycle)
    assert backdated.authority == "bkn"
