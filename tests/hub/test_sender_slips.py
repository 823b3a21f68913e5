"""Slips of a sender written from docs/signing.md alone, each refused saying what to change.

A random case_id and an envelope field the docs say stays null were taken before: the report
opened a case nobody could find again from its number, and the trail carried a sender's
ingest_time as if the hub had stamped it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas.identity import case_id_for
from streams.hub.pipeline import Pipeline
from tests.hub.steptools import step_pipeline
from tests.hub.test_authentication import EVENT_TIME, reason_given, refused_with, signed
from tests.hubtools import report


@pytest.fixture(scope="module")
def step(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return step_pipeline(tmp_path_factory.mktemp("slips"))


@pytest.fixture
def event() -> dict[str, Any]:
    record = report("bawaslu.33")
    record["envelope"]["event_time"] = EVENT_TIME
    return record


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("ingest_time", datetime(2026, 11, 2, 9, 1, tzinfo=UTC), "the trail entry's recorded_at"),
        ("signature", b"\x00" * 64, "beside the event, in kawal.SignedEvent"),
    ],
)
def test_an_envelope_field_a_signed_event_leaves_null_is_refused(
    step: Pipeline, event: dict[str, Any], field: str, value: object, why: str
) -> None:
    event["envelope"][field] = value
    wrapper = signed(step, event)

    assert refused_with(step, event, wrapper) == "schema_mismatch"
    reason = reason_given(step, event, wrapper)
    assert reason.startswith(f"envelope.{field} must be null: ")
    assert why in reason


def test_a_report_under_a_random_case_id_is_refused_naming_the_derived_one(
    step: Pipeline, event: dict[str, Any]
) -> None:
    event["envelope"]["case_id"] = str(uuid.uuid4())
    wrapper = signed(step, event)

    assert refused_with(step, event, wrapper) == "case_id_not_derived"
    derived = case_id_for("bawaslu.33", event["case_number"])
    assert f"here {derived}; send that case_id" in reason_given(step, event, wrapper)


def test_a_report_with_an_empty_case_number_is_refused_not_failed(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # No case id derives from it: before, the step failed on it (internal_error).
    event["case_number"] = ""
    wrapper = signed(step, event)

    assert refused_with(step, event, wrapper) == "case_id_not_derived"
    assert reason_given(step, event, wrapper).startswith("case_number is empty: ")


@pytest.mark.parametrize(
    "number",
    [
        "LP/NIK-3201011505800001/2026",
        "LP/198501012010011001",
        "3201011505800001",
        # As printed on documents: these passed, and were published in clear.
        "LP-3201 0115 0580 0001/2026",
        "LP/19850119 201006 2 694/2026",
    ],
)
def test_a_report_whose_case_number_holds_a_nik_or_nip_is_refused_without_quoting_it(
    step: Pipeline, event: dict[str, Any], number: str
) -> None:
    # The case number travels in clear to every party and the public case page shows it.
    event["case_number"] = number
    event["envelope"]["case_id"] = case_id_for("bawaslu.33", number)
    wrapper = signed(step, event)

    assert refused_with(step, event, wrapper) == "case_number_not_public"
    reason = reason_given(step, event, wrapper)
    assert reason.startswith("case_number holds 16 or 18 digits in a row")
    assert number not in reason


@pytest.mark.parametrize(
    "number",
    ["LP/001/Reg/PL/14.01/XI/2024", "LP/20241107/123456789012345", "LP-2024-11-07-0001-3374"],
)
def test_a_case_number_with_other_digit_runs_is_taken(
    step: Pipeline, event: dict[str, Any], number: str
) -> None:
    event["case_number"] = number
    event["envelope"]["case_id"] = case_id_for("bawaslu.33", number)

    assert refused_with(step, event, signed(step, event)) == "accepted"


def test_a_report_carrying_the_senders_own_reporter_reference_is_refused(
    step: Pipeline, event: dict[str, Any]
) -> None:
    # The office's own reference would travel in clear and join the person's reports.
    event["reporter_ref"] = "SIGAP-2024-000917"
    wrapper = signed(step, event)

    assert refused_with(step, event, wrapper) == "reporter_ref_not_pseudonym"
    reason = reason_given(step, event, wrapper)
    assert "SIGAP" not in reason
    assert "per-case pseudonym" in reason


@pytest.mark.parametrize(
    "actor",
    [
        "Drs. Bambang Sutrisno, M.Si",  # a name
        "198503152010011002",  # a NIP, alone
        "user:198503152010011002",  # a NIP as the token
        "user:3374012345678901",  # a NIK
        "user:" + "a" * 100,  # longer than any reference
        "",
    ],
    ids=["name", "nip", "nip-token", "nik-token", "overlong", "empty"],
)
def test_an_actor_ref_that_is_no_pseudonym_is_refused_without_quoting_it(
    step: Pipeline, event: dict[str, Any], actor: str
) -> None:
    # It travels in clear to every party, and no erasure reaches it: before, it was accepted.
    event["envelope"]["actor_ref"] = actor
    wrapper = signed(step, event)

    assert refused_with(step, event, wrapper) == "actor_ref_not_pseudonym"
    reason = reason_given(step, event, wrapper)
    assert reason.startswith("envelope.actor_ref must be 'kind:token'")
    assert not actor or actor not in reason


@pytest.mark.parametrize(
    "actor", ["user:u-0007", "officer:bawaslu.33:ab12", "system:bkn", "kawal:deadline-timer"]
)
def test_an_actor_ref_of_a_kind_and_a_token_is_taken(
    step: Pipeline, event: dict[str, Any], actor: str
) -> None:
    event["envelope"]["actor_ref"] = actor

    assert refused_with(step, event, signed(step, event)) == "accepted"
