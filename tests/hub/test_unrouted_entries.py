"""An entry whose case names an unregistered PPK or inspectorate is counted and logged, not lost."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from streams.topics import outbound_topic
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hubtools import registration, report

UNROUTED = "kawal_unrouted_entries_total"


def unrouted(step: Pipeline, role: str) -> float:
    value = step.metrics.registry.get_sample_value(UNROUTED, {"role": role})
    assert value is not None, f"{UNROUTED}{{role={role}}} is not exported"
    return float(value)


def test_entries_for_an_unregistered_ppk_and_inspectorate_are_counted_and_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    first = report() | {"employing_agency": "ppk.3201", "region_code": "3201"}
    case_id = first["envelope"]["case_id"]
    assert unrouted(step, "ppk") == 0  # exported before the first one
    caplog.set_level(logging.ERROR, "streams.hub.unrouted_parties")

    step.decide(cases, inbound_message(step, "ReportReceived", first, 0))
    produced = step.decide(
        cases, inbound_message(step, "ReportRegistered", registration(case_id), 1)
    )

    # ReportReceived is for the supervisor and the authority: nobody unrouted yet. Its
    # registration is for the PPK and the inspectorate too, neither registered.
    topics = {topic for topic, *_ in produced}
    assert outbound_topic("bkn") in topics
    assert unrouted(step, "ppk") == 1
    assert unrouted(step, "regional_inspectorate") == 1
    logged = [r.getMessage() for r in caplog.records]
    assert any("ppk.3201, which is not registered" in line for line in logged), logged
    assert any("inspektorat.3201, which is not registered" in line for line in logged), logged
    assert all(case_id in line for line in logged)
    # The subject's NIP and name never reach the log.
    assert first["subject_nip"] not in caplog.text
    assert first["subject_name"] not in caplog.text


def test_a_second_entry_is_counted_but_not_logged_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    caplog.set_level(logging.ERROR, "streams.hub.unrouted_parties")
    for offset in range(2):
        first = report() | {"employing_agency": "ppk.3201"}
        case_id = first["envelope"]["case_id"]
        step.decide(cases, inbound_message(step, "ReportReceived", first, 2 * offset))
        step.decide(
            cases, inbound_message(step, "ReportRegistered", registration(case_id), 2 * offset + 1)
        )

    assert unrouted(step, "ppk") == 2
    assert sum("ppk.3201" in r.getMessage() for r in caplog.records) == 1


def test_a_redelivered_entry_is_not_counted_twice(tmp_path: Path) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    first = report() | {"employing_agency": "ppk.3201"}
    case_id = first["envelope"]["case_id"]
    step.decide(cases, inbound_message(step, "ReportReceived", first, 0))
    registered = inbound_message(step, "ReportRegistered", registration(case_id), 1)

    step.decide(cases, registered)
    step.decide(cases, registered)

    assert unrouted(step, "ppk") == 1


def test_registered_parties_leave_nothing_unrouted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    step = step_pipeline(tmp_path)
    cases = CaseBatch({})
    first = report()  # ppk.3374 and inspektorat.3374, both in the bundled registry
    case_id = first["envelope"]["case_id"]
    caplog.set_level(logging.ERROR, "streams.hub.unrouted_parties")

    step.decide(cases, inbound_message(step, "ReportReceived", first, 0))
    produced = step.decide(
        cases, inbound_message(step, "ReportRegistered", registration(case_id), 1)
    )

    assert outbound_topic("ppk.3374") in {topic for topic, *_ in produced}
    assert unrouted(step, "ppk") == 0
    assert unrouted(step, "regional_inspectorate") == 0
    assert caplog.records == []
