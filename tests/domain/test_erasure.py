"""Erasure in the lifecycle, its event and its reason, without a broker."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.domain.erasure import (
    COMMAND_ACTOR,
    ERASURE_EVENT,
    REASON_MAX,
    erasure_event,
    erasure_event_id,
    reason_problem,
)
from streams.domain.lifecycle import CaseLifecycle, Phase, advance, check_transition, start
from streams.domain.reasons import Reason
from tests.disclosure_case import closed
from tests.hubtools import registration, report, verification

ERASED_AT = datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def erasure(case_id: str, rule: str | None = None) -> dict[str, Any]:
    return erasure_event(
        case_id,
        reason="erasure request 2030/001 under Law 27/2022",
        erased_at=ERASED_AT,
        retention_rule=rule,
        actor=COMMAND_ACTOR,
        now=ERASED_AT + timedelta(seconds=1),
    )


def walk(state: CaseLifecycle, *steps: tuple[str, dict[str, Any]]) -> CaseLifecycle:
    for event_type, record in steps:
        assert check_transition(state, event_type, record) is None, event_type
        state = advance(state, event_type, record)
    return state


def closed_case() -> tuple[CaseLifecycle, str, dict[str, Any]]:
    """A report verified not proven, then closed; its lifecycle, id and CaseClosed."""
    first = report()
    case_id: str = first["envelope"]["case_id"]
    _, closing = closed(case_id, reason="NOT_PROVEN")
    state = walk(
        start(first, "bkn"),
        ("ReportRegistered", registration(case_id)),
        ("VerificationCompleted", verification(case_id, proven=False)),
        ("CaseClosed", closing),
    )
    return state, case_id, closing


def test_closing_records_when_the_case_closed() -> None:
    state, _, closing = closed_case()

    assert state.phase is Phase.CLOSED
    assert state.closed_at == closing["envelope"]["event_time"].isoformat()
    assert state.erased_at is None


def test_a_closed_case_may_be_erased_and_records_when() -> None:
    state, case_id, _ = closed_case()

    state = walk(state, (ERASURE_EVENT, erasure(case_id, "closed_case")))

    assert state.phase is Phase.CLOSED
    assert state.erased_at == ERASED_AT.isoformat()


def test_an_open_case_may_be_erased_and_goes_on() -> None:
    first = report()
    case_id: str = first["envelope"]["case_id"]

    state = walk(
        start(first, "bkn"),
        (ERASURE_EVENT, erasure(case_id)),
        ("ReportRegistered", registration(case_id)),
    )

    assert (state.phase, state.erased_at) == (Phase.REGISTERED, ERASED_AT.isoformat())


def test_a_second_erasure_is_refused_with_when_the_first_was() -> None:
    state, case_id, _ = closed_case()
    state = walk(state, (ERASURE_EVENT, erasure(case_id)))

    rejection = check_transition(state, ERASURE_EVENT, erasure(case_id, "closed_case"))

    assert rejection is not None
    assert rejection.reason is Reason.ALREADY_ERASED
    assert ERASED_AT.isoformat() in rejection.detail
    assert "erased once" in rejection.detail


def test_an_unknown_case_is_never_erased() -> None:
    rejection = check_transition(None, ERASURE_EVENT, erasure(str(uuid.uuid4())))

    assert rejection is not None
    assert rejection.reason is Reason.ILLEGAL_TRANSITION
    assert "no report for this case" in rejection.detail


def test_a_closed_case_still_refuses_every_other_event() -> None:
    state, case_id, _ = closed_case()
    state = walk(state, (ERASURE_EVENT, erasure(case_id)))

    rejection = check_transition(state, "ReportRegistered", registration(case_id))

    assert rejection is not None
    assert rejection.reason is Reason.CASE_CLOSED


def test_a_table_value_of_an_older_hub_loads_without_the_new_fields() -> None:
    state, _, _ = closed_case()
    older = {
        key: value
        for key, value in json.loads(json.dumps(state.to_json())).items()
        if key not in ("closed_at", "erased_at")
    }

    loaded = CaseLifecycle.from_json(older)

    assert loaded is not None
    assert (loaded.phase, loaded.closed_at, loaded.erased_at) == (Phase.CLOSED, None, None)
    assert CaseLifecycle.from_json(state.to_json()) == state


def test_one_event_id_per_case_whoever_erases_it() -> None:
    case_id = str(uuid.uuid4())

    assert erasure(case_id)["envelope"]["event_id"] == erasure_event_id(case_id)
    assert erasure(case_id, "closed_case")["envelope"]["event_id"] == erasure_event_id(case_id)
    assert erasure_event_id(case_id) != erasure_event_id(str(uuid.uuid4()))
    assert uuid.UUID(erasure_event_id(case_id)).version == 5


def test_the_event_is_the_hubs_and_fits_its_schema() -> None:
    catalog = default_catalog()
    case_id = str(uuid.uuid4())
    record = erasure(case_id, "closed_case")

    decoded = AvroCodec(catalog).decode(AvroCodec(catalog).encode(ERASURE_EVENT, record))

    assert decoded.record == record
    assert record["envelope"]["source"] == "kawal"
    assert catalog.personal_data_fields(ERASURE_EVENT) == ()


@pytest.mark.parametrize(
    "reason",
    [
        "erasure request 2027/014 under Law 27/2022",
        "data subject request, letter 800/123/2024 of 2024-11-01",
        "x" * REASON_MAX,
    ],
)
def test_reasons_that_name_nobody_are_taken(reason: str) -> None:
    assert reason_problem(reason) is None


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        ("", "needs a reason"),
        ("   ", "needs a reason"),
        ("x" * (REASON_MAX + 1), f"keep it to {REASON_MAX}"),
        ("request of NIP 198501012010011001", "personal data"),
        ("NIK 3374 0101 8501 0001", "personal data"),
        ("call 0812-3456-7890", "personal data"),
        ("asked by budi@example.go.id", "personal data"),
    ],
)
def test_reasons_that_may_name_someone_are_refused_without_repeating_them(
    reason: str, says: str
) -> None:
    problem = reason_problem(reason)

    assert problem is not None
    assert says in problem
    assert not reason.strip() or reason.strip() not in problem
