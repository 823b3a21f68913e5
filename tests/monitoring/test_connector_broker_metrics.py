"""A connector's ``up`` and readiness follow its broker's silence, whatever its passes say.

The silence is :class:`streams.broker.silence.BrokerSilence` on a clock the test moves: past
its grace, a pass that succeeded no longer makes the connector up, and ``/readyz`` names the
connector whose broker is silent; its first answer makes both healthy again.
"""

from __future__ import annotations

import pytest

from monitoring.connectors import ConnectorMetrics
from streams.broker.silence import BrokerSilence
from tests.clocks import ManualClock

LABELS = {"connector": "siasn", "institution": "bkn"}
GRACE = 30.0


def _sample(metrics: ConnectorMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name, LABELS)


def test_a_silent_broker_makes_a_passing_connector_down_and_unready_until_it_answers() -> None:
    clock = ManualClock(100.0)
    silence = BrokerSilence(GRACE, clock=clock)
    metrics = ConnectorMetrics()
    probe = metrics.probe("siasn", "bkn")
    probe.follow_broker(silence)
    probe.succeeded(0)
    assert _sample(metrics, "kawal_connector_up") == 1.0
    assert metrics.readiness() is None
    # What KawalConnectorBrokerUnanswered compares the silence with.
    assert _sample(metrics, "kawal_connector_broker_unanswered_grace_seconds") == GRACE

    clock.now += GRACE  # at the grace, not past it
    probe.succeeded(0)
    assert _sample(metrics, "kawal_connector_up") == 1.0
    clock.now += 1
    probe.succeeded(0)  # an idle system's pass reaches no broker
    assert _sample(metrics, "kawal_connector_up") == 0.0
    assert _sample(metrics, "kawal_connector_broker_unanswered_seconds") == GRACE + 1
    assert metrics.readiness() == (
        503,
        {
            "status": "degraded",
            "broker": "unreachable",
            "broker_unanswered_seconds": int(GRACE + 1),
            "connector": "siasn",
        },
    )

    silence.answered()
    assert _sample(metrics, "kawal_connector_up") == 1.0
    assert _sample(metrics, "kawal_connector_broker_unanswered_seconds") == 0.0
    assert metrics.readiness() is None


def test_a_pass_that_gave_up_is_down_while_the_broker_answers() -> None:
    metrics = ConnectorMetrics()
    probe = metrics.probe("siasn", "bkn")
    assert _sample(metrics, "kawal_connector_up") is None  # absent before the first pass
    probe.follow_broker(BrokerSilence(GRACE, clock=ManualClock(0.0)))
    probe.failed()
    assert _sample(metrics, "kawal_connector_up") == 0.0
    assert metrics.readiness() is None
    probe.succeeded(1)
    assert _sample(metrics, "kawal_connector_up") == 1.0


def test_each_line_of_a_connectors_silence_names_the_connector(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The demo's connectors share one log: before, its lines did not say whose they were.
    clock = ManualClock(0.0)
    silence = BrokerSilence(GRACE, clock=clock, who="connector siasn")

    with caplog.at_level("WARNING", logger="streams.broker.silence"):
        silence.unanswered(TimeoutError())
        clock.now += 80
        silence.answered()

    said = [record.getMessage() for record in caplog.records]
    assert said[0].startswith("connector siasn: the broker does not answer (TimeoutError)")
    assert said[1] == "connector siasn: the broker answers again, after 80 s"
