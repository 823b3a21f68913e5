"""How long clocks stay overdue: what KawalDeadlineTimerBehind reads.

A clock counts as overdue from when the worker first sees it so, so a trickle of late reports
(clocks run out before the hub knew of them, each breached within a minute) shows short ages
although some clock is overdue at every moment; a clock the timer never breaches grows old.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from monitoring.overdue import OverdueCollector
from streams.domain.deadlines import load_rules
from streams.domain.lifecycle import CaseLifecycle, Phase
from streams.hub.case_census import CaseCensus
from streams.hub.case_scan import Pacing
from streams.hub.watch import watch_cases
from tests.hub.steptools import step_pipeline

START = datetime(2026, 3, 2, 12, tzinfo=UTC)
RULES = load_rules()
RULE = "recommendation_follow_up"


class Clock:
    """A settable now."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def recommended(*clocks: dict[str, Any]) -> dict[str, Any]:
    """A case table value of a recommended case running ``clocks``."""
    case = CaseLifecycle(
        phase=Phase.RECOMMENDED,
        reported_at=START.isoformat(),
        authority="bkn",
        reporter="bawaslu.33",
        employing_agency="ppk.3374",
        region_code="3374",
        violation="ETHICS_SOCIAL_MEDIA_CAMPAIGN",
        clocks=list(clocks),
    )
    return {"lifecycle": case.to_json()}


def late(caused_by: str, rule: str = RULE) -> dict[str, Any]:
    """A clock started by a report sent long after the event: it ran out before it came."""
    return {
        "rule_id": rule,
        "started_at": (START - timedelta(days=60)).isoformat(),
        "due_at": (START - timedelta(days=40)).isoformat(),
        "caused_by": caused_by,
        "provisional": False,
    }


def breached(clock: dict[str, Any], at: datetime) -> dict[str, Any]:
    return clock | {"breached_at": at.isoformat()}


def census_of(table: dict[str, dict[str, Any]], clock: Clock) -> CaseCensus:
    """A census of ``table`` that may be taken at every call."""
    return CaseCensus(table, RULES, clock, Pacing(pace=0.0))


def ages_now(census: CaseCensus) -> dict[str, float]:
    """The ages a census taken now finds."""
    asyncio.run(census.take())
    return census.ages()


def test_a_trickle_of_late_reports_shows_short_ages_though_some_clock_is_always_overdue() -> None:
    clock, table = Clock(), dict[str, dict[str, Any]]()
    census = census_of(table, clock)
    worst = 0.0
    for minute in range(20):
        clock.now = START + timedelta(minutes=minute)
        if minute:  # the timer breached the previous one; the next late report arrives
            table[f"case-{minute - 1}"] = recommended(breached(late(f"e{minute - 1}"), clock.now))
        table[f"case-{minute}"] = recommended(late(f"e{minute}"))
        worst = max(worst, ages_now(census)[RULE])
        counts = census.counts()
        assert counts is not None
        assert counts.clocks[RULE, "PPK", "overdue"] == 1  # what the alert read before
    assert worst == 0.0  # each seen at its first look, breached by the next


def test_a_clock_the_timer_never_breaches_grows_old() -> None:
    clock = Clock()
    table = {"stuck": recommended(late("e1")), "fine": recommended()}
    census = census_of(table, clock)
    assert ages_now(census)[RULE] == 0.0
    clock.now = START + timedelta(minutes=11)

    ages = ages_now(census)

    assert ages[RULE] == 660.0
    # Every configured rule, at 0 without an overdue clock.
    assert ages == dict.fromkeys(RULES, 0.0) | {RULE: 660.0}
    table["stuck"] = recommended(breached(late("e1"), clock.now))
    assert ages_now(census)[RULE] == 0.0


def test_the_census_hands_the_timer_each_clock_that_ran_out_unreported() -> None:
    clock = Clock()
    table = {
        "stuck": recommended(late("e1")),
        "reported": recommended(breached(late("e2"), START)),
        "fine": recommended(),
    }

    found = asyncio.run(census_of(table, clock).take())

    assert found is not None
    assert [(d.case_id, d.clock["caused_by"]) for d in found.due] == [("stuck", "e1")]
    assert found.taken_at == START


def test_a_clock_of_a_rule_no_longer_configured_is_left_out() -> None:
    clock = Clock()
    census = census_of({"old": recommended(late("e1", rule="retired_rule"))}, clock)
    ages_now(census)
    clock.now = START + timedelta(hours=1)
    assert "retired_rule" not in ages_now(census)


def test_the_collector_exports_the_age_of_each_rule() -> None:
    registry = CollectorRegistry()
    registry.register(OverdueCollector(lambda: {RULE: 660.0, "appeal_answer": 0.0}))
    text = generate_latest(registry).decode()
    assert f'kawal_deadline_overdue_seconds{{rule="{RULE}"}} 660.0' in text
    assert 'kawal_deadline_overdue_seconds{rule="appeal_answer"} 0.0' in text


def test_the_worker_exports_the_cases_once_its_first_census_is_taken(tmp_path: Path) -> None:
    step = step_pipeline(tmp_path)
    census = watch_cases(step.metrics, {"stuck": recommended(late("e1"))}, step.rules, 86400.0)
    before = step.metrics.exposition().decode()

    asyncio.run(census.take())
    text = step.metrics.exposition().decode()

    # No figure before the first census: a count of nothing would read as no cases at all.
    for family in ("kawal_cases{", "kawal_deadline_overdue_seconds{", "kawal_case_census"):
        assert family not in before
        assert family in text
    assert "kawal_calendar_last_covered_year" in before
    for rule in step.rules.deadline_rules:
        assert f'kawal_deadline_overdue_seconds{{rule="{rule}"}} 0.0' in text
    assert 'kawal_cases{phase="recommended"} 1.0' in text
