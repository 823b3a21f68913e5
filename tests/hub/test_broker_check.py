"""Readiness degrades only once the broker has answered nothing for a bounded time.

The clock is the test's; the questions go to a real broker (the session's tansu) and to a port
that takes connections and never answers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator

import pytest

from monitoring.metrics import HubMetrics
from streams.broker.endpoint import parse_broker_url
from streams.broker.silence import UNANSWERED_SECONDS, BrokerQuestion
from streams.hub.broker_check import BrokerCheck
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from tests.clocks import ManualClock

#: A short wait for the questions nobody answers, in seconds.
WAIT = 1.0


@pytest.fixture
def answering(broker: EmbeddedBroker) -> Iterator[BrokerQuestion]:
    question = BrokerQuestion(parse_broker_url(broker.url).bootstrap, wait=WAIT)
    try:
        yield question
    finally:
        question.close()


@pytest.fixture
def silent() -> Iterator[BrokerQuestion]:
    """Questions to a port that takes connections and answers nothing, as a frozen broker."""
    with socket.create_server(("127.0.0.1", free_port())) as listener:
        question = BrokerQuestion(
            parse_broker_url(f"kafka://127.0.0.1:{listener.getsockname()[1]}").bootstrap, wait=WAIT
        )
        try:
            yield question
        finally:
            question.close()


class Asked:
    """Asks the broker through the question of the moment, moving the clock by ``takes``."""

    def __init__(self, question: BrokerQuestion, clock: ManualClock[float]) -> None:
        self.question = question
        self.clock = clock
        self.takes = 0.0

    def __call__(self) -> None:
        self.clock.now += self.takes
        self.question()


def said(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "streams.broker.silence"]


def unanswered(metrics: HubMetrics) -> float:
    value = metrics.registry.get_sample_value("kawal_broker_unanswered_seconds")
    assert value is not None
    return value


def test_readiness_degrades_after_the_silence_bound_and_recovers_at_the_first_answer(
    answering: BrokerQuestion, silent: BrokerQuestion, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(1000.0)
    asked = Asked(answering, clock)
    metrics = HubMetrics()
    check = BrokerCheck(asked, metrics, clock=clock)
    asyncio.run(check.check())
    assert check.readiness() is None
    assert unanswered(metrics) == 0

    asked.question = silent
    with caplog.at_level(logging.WARNING, logger="streams.broker.silence"):
        for _ in range(3):
            asyncio.run(check.check())
            clock.now += UNANSWERED_SECONDS / 3
    # Exactly the bound of silence is not yet unreachable; a second more is.
    assert check.unanswered_for() == UNANSWERED_SECONDS
    assert check.readiness() is None
    clock.now += 1
    assert check.readiness() == (
        503,
        {
            "status": "degraded",
            "broker": "unreachable",
            "broker_unanswered_seconds": int(UNANSWERED_SECONDS + 1),
        },
    )
    [stopped] = said(caplog)
    assert stopped.startswith("the broker does not answer (")
    assert "docs/operations.md#kawalbrokerunanswered" in stopped
    assert unanswered(metrics) == UNANSWERED_SECONDS + 1  # what the alert reads

    asked.question = answering
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="streams.broker.silence"):
        asyncio.run(check.check())
    assert check.readiness() is None
    assert check.unanswered_for() == 0
    assert unanswered(metrics) == 0
    assert said(caplog) == [f"the broker answers again, after {UNANSWERED_SECONDS + 1:.0f} s"]


def test_a_slow_broker_that_answers_never_degrades_readiness(answering: BrokerQuestion) -> None:
    clock = ManualClock(0.0)
    metrics = HubMetrics()
    seen: list[object] = []

    def slowly() -> None:
        # Each answer comes as late as a broker may answer without being silent, and
        # readiness is asked just before it comes.
        clock.now += UNANSWERED_SECONDS - 1
        seen.append(check.readiness())
        answering()

    check = BrokerCheck(slowly, metrics, clock=clock)
    for _ in range(5):
        asyncio.run(check.check())
        clock.now += 1  # the check's interval, between two answers
    assert seen == [None] * 5
    assert check.readiness() is None


def test_a_silent_broker_from_the_start_degrades_once_the_bound_has_passed(
    silent: BrokerQuestion,
) -> None:
    # The bound counts from the first question the broker left unanswered.
    clock = ManualClock(0.0)
    check = BrokerCheck(silent, HubMetrics(), clock=clock)
    asyncio.run(check.check())
    assert check.readiness() is None
    clock.now = UNANSWERED_SECONDS + 0.5
    asyncio.run(check.check())
    readiness = check.readiness()
    assert readiness is not None
    assert readiness[0] == 503
    assert readiness[1]["broker"] == "unreachable"


def test_a_long_recovery_before_the_first_check_is_no_silence(
    answering: BrokerQuestion, silent: BrokerQuestion
) -> None:
    # Faust starts the check's timer once its tables are recovered: minutes after the check
    # was made. They read as the broker not answering (a page, /readyz 503) while it served
    # the recovery.
    clock = ManualClock(0.0)
    metrics = HubMetrics()
    check = BrokerCheck(answering, metrics, clock=clock)
    clock.now = 10 * UNANSWERED_SECONDS

    assert check.readiness() is None
    assert unanswered(metrics) == 0
    asyncio.run(check.check())
    assert check.readiness() is None

    # Silent from its first question on, the bound counts from that question.
    late = BrokerCheck(silent, HubMetrics(), clock=clock)
    asyncio.run(late.check())
    assert late.unanswered_for() == 0
    clock.now += UNANSWERED_SECONDS + 1
    assert late.readiness() is not None
