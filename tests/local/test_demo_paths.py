"""The paths live cases take in a running demo: those :mod:`connectors.demo_pace` draws.

The inspectorate's reports reach registration (Bawaslu's officers, the supervisor of the
region, register them as they do their own), and every decision on a case is the one its id
draws, whichever office's thread met it first (docs/demo.md).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from connectors.demo_pace import WAITS, authority_proven, bawaslu_plan
from tests.hubtools import UpProcess
from tests.local.test_up import _live_trails, _wait_for_output, demo_up

pytestmark = pytest.mark.slow

__all__ = ["demo_up"]  # the running demo of tests/local/test_up.py, one for this module

INSPECTORATE = "inspektorat.3374"
#: docs/demo.md: Bawaslu's officers take at most 3 minutes before a step, once the hub
#: delivered the report; a minute more for the hops (file drop, hub, feed, webhook, hub).
REGISTRATION_SECONDS = max(WAITS) + 60.0
#: The first step each of Bawaslu's outcomes takes.
FIRST_STEP = {
    "not_registered": "ReportRejected",
    "not_proven": "ReportRegistered",
    "proven": "ReportRegistered",
}


def _inspectorate_cases(up: UpProcess) -> dict[str, list[dict[str, Any]]]:
    """The live cases the demo's inspectorate reported, with their entries."""
    return {
        case_id: entries
        for case_id, entries in _live_trails(up).items()
        if entries and entries[0]["envelope"]["source"] == INSPECTORATE
    }


def _first_step(entries: list[dict[str, Any]]) -> str | None:
    steps = [e["event_type"] for e in entries if e["event_type"] in FIRST_STEP.values()]
    return steps[0] if steps else None


@pytest.mark.timeout(REGISTRATION_SECONDS + 300)
def test_an_inspectorate_report_reaches_registration_as_its_plan_says(demo_up: UpProcess) -> None:
    _wait_for_output(demo_up, "more demo cases for the dashboard")
    deadline = time.monotonic() + 120
    while not (reported := _inspectorate_cases(demo_up)):
        assert time.monotonic() < deadline, "no inspectorate report within two minutes"
        time.sleep(5)
    first = sorted(reported, key=lambda case_id: reported[case_id][0]["recorded_at"])[0]
    deadline = time.monotonic() + REGISTRATION_SECONDS
    while (step := _first_step(_inspectorate_cases(demo_up)[first])) is None:
        assert time.monotonic() < deadline, f"{first} not registered nor refused in time"
        time.sleep(5)

    assert step == FIRST_STEP[bawaslu_plan(first).outcome]
    cases = _inspectorate_cases(demo_up)
    for case_id, entries in cases.items():
        if (taken := _first_step(entries)) is not None:
            assert taken == FIRST_STEP[bawaslu_plan(case_id).outcome], case_id
        assert [e["envelope"]["source"] for e in entries[1:] if "Report" in e["event_type"]] in (
            [],
            ["bawaslu.33"],
        ), case_id


def test_bkns_verdict_on_every_live_case_is_the_one_its_id_draws(demo_up: UpProcess) -> None:
    _wait_for_output(demo_up, "more demo cases for the dashboard")
    deadline = time.monotonic() + 420
    while True:
        verdicts = {
            case_id: bool(entry["fields"]["proven"])
            for case_id, entries in _live_trails(demo_up).items()
            for entry in entries
            if entry["event_type"] == "RecommendationIssued"
        }
        if len(verdicts) >= 2:
            break
        assert time.monotonic() < deadline, verdicts
        time.sleep(10)

    assert verdicts == {case_id: authority_proven(case_id) for case_id in verdicts}
