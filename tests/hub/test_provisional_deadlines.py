"""A clock through a year without holiday data, in the pipeline step (in process, no broker).

The clock is kept with a due date counted on weekends only and marked provisional; ops sees it
as an ERROR log and in ``kawal_provisional_deadlines_total``; nothing is dropped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from streams.audit.stats import COLUMNS
from streams.domain.lifecycle import start
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Outgoing, Pipeline
from streams.topics import DLQ
from streams.web.page import case_row
from streams.web.render import Overview, overview_page
from tests.hub.steptools import inbound_message, step_pipeline
from tests.hubtools import recommendation, report, until_referral

#: Beyond every source of holiday data.
UNCOVERED_YEAR = 2099
RULE = "recommendation_follow_up"
METRIC = "kawal_provisional_deadlines_total"
NO_STATS: dict[str, Any] = {
    "totals": dict.fromkeys(COLUMNS, 0),
    "by_election": [],
    "by_region": [],
    "by_institution": [],
    "definitions": {},
}


@pytest.fixture
def hub(tmp_path: Path) -> Pipeline:
    return step_pipeline(tmp_path)


def run(hub: Pipeline, cases: CaseBatch, events: list[tuple[str, dict[str, Any]]]) -> None:
    for offset, (event_type, record) in enumerate(events):
        # Each event reaches the broker when it happens, later in these scenarios than now.
        received_at = max(datetime.now(UTC), record["envelope"]["event_time"])
        message = inbound_message(hub, event_type, record, offset, received_at)
        produced: list[Outgoing] = hub.decide(cases, message)
        assert DLQ not in [topic for topic, *_ in produced], event_type


def opened_on(moment: datetime) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """A case reported, registered, verified and referred at ``moment``; its id and events."""
    first = report()
    case_id: str = first["envelope"]["case_id"]
    events = [("ReportReceived", first), *until_referral(case_id)]
    for _, record in events:
        record["envelope"]["event_time"] = moment
    return case_id, events


def provisional_count(hub: Pipeline) -> float | None:
    return hub.metrics.registry.get_sample_value(METRIC, {"rule": RULE})


def test_clock_past_every_source_is_kept_provisional_counted_and_logged(
    hub: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    case_id, opening = opened_on(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    late = recommendation(case_id)
    late["envelope"]["event_time"] = datetime(UNCOVERED_YEAR, 6, 1, 3, 0, tzinfo=UTC)
    cases = CaseBatch({})
    run(hub, cases, opening)
    assert provisional_count(hub) == 0  # exported before the first one

    with caplog.at_level(logging.ERROR, logger="streams.hub.provisional_clocks"):
        run(hub, cases, [("RecommendationIssued", late)])

    known = cases.get(case_id)
    assert known is not None
    [clock] = [clock for clock in known.lifecycle.clocks if clock["rule_id"] == RULE]
    assert clock["provisional"] is True
    assert clock["due_at"].startswith(f"{UNCOVERED_YEAR}-06-")
    assert provisional_count(hub) == 1
    [logged] = [entry for entry in caplog.records if entry.levelno == logging.ERROR]
    assert RULE in logged.getMessage()
    assert f"no holiday data for {UNCOVERED_YEAR}" in logged.getMessage()
    run(hub, cases, [("RecommendationIssued", late)])  # a redelivery: counted once
    assert provisional_count(hub) == 1
    first = opening[0][1]
    personal = (first["subject_name"], first["subject_nip"], first["reporter_identity"])
    assert not [value for value in personal if value in caplog.text]


def test_clock_on_known_holidays_is_firm_and_not_reported(
    hub: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    case_id, opening = opened_on(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    issued = recommendation(case_id)
    issued["envelope"]["event_time"] = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)
    cases = CaseBatch({})

    with caplog.at_level(logging.ERROR, logger="streams.hub.provisional_clocks"):
        run(hub, cases, [*opening, ("RecommendationIssued", issued)])

    known = cases.get(case_id)
    assert known is not None
    [clock] = [clock for clock in known.lifecycle.clocks if clock["rule_id"] == RULE]
    assert clock == clock | {"due_at": "2027-01-14T17:00:00+00:00", "provisional": False}
    assert provisional_count(hub) == 0
    assert not caplog.records


def test_page_marks_a_provisional_clock() -> None:
    case = start(report(), "bkn")
    firm = {"rule_id": "appeal_answer", "started_at": "2026-12-01T00:00:00+00:00"}
    case.clocks = [
        firm | {"due_at": "2026-12-30T17:00:00+00:00", "caused_by": "e1"},
        {
            "rule_id": RULE,
            "started_at": "2099-06-01T03:00:00+00:00",
            "due_at": "2099-06-19T17:00:00+00:00",
            "caused_by": "e2",
            "provisional": True,
        },
    ]
    now = datetime(2026, 12, 4, tzinfo=UTC)

    page = overview_page(
        Overview(now, [case_row("c1", case, None, now)], 1, NO_STATS, {}, []), "en"
    )

    assert f'<span data-clock="{RULE}">' in page
    assert "due by the end of 19 June 2099 WIB (provisional: no holiday data" in page
    assert (
        '<span data-clock="appeal_answer">Answer to the appeal: due by the end of 30 December '
        "2026 WIB<" in page
    )
