"""An outbound connector whose system is down says so: down, failing, not ready until it is back.

``ppk-inbox`` runs as ``kawal connector run`` runs it, its metrics served, against the PPK's
decree registry (the simulator). While the registry is unreachable, the feed is held at the
entry not delivered: it is tried again pass after pass, each pass that gave up counted in
``kawal_connector_failures_total``; ``kawal_connector_up`` is 0 and ``/readyz`` answers 503,
however quiet the feed, until the registry takes the entry. It is then delivered, with the
entries after it, and nothing is dead-lettered. Before, the entry was dead-lettered
``delivery_failed`` and waited for an operator's ``--redeliver-from``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import ConnectorConfig, OutboundConnector
from connectors.contract_base import FAST_RETRY
from connectors.host import build
from connectors.ppk.simulator import DecreeRegistry
from connectors.signed_fixtures import feed_entry_record
from streams.local.embedded import EmbeddedBroker
from streams.topics import outbound_topic
from tests.connectors.test_connector_broker_silence import Running
from tests.connectors.test_ppk import running, settings
from tests.hubtools import recommendation, report

pytestmark = pytest.mark.slow

PPK = "ppk.3374"
#: Seconds the connector is watched for passes that bring nothing: several of its polls.
QUIET_SECONDS = 3.0


def _publish(producer: KafkaProducer, connector: OutboundConnector[ConnectorConfig]) -> str:
    """A new case's RecommendationIssued on the PPK's feed; its case id."""
    case_id = str(report()["envelope"]["case_id"])
    entry = feed_entry_record(
        connector.context, "RecommendationIssued", recommendation(case_id), PPK
    )
    value = connector.context.codec.encode("kawal.AuditEntry", entry)
    producer.send(outbound_topic(PPK), key=case_id.encode(), value=value).get(30)
    return case_id


def _in_tray(registry: DecreeRegistry) -> list[Any]:
    return [row["case_id"] for row in registry.recommendations()]


def test_a_registry_outage_keeps_the_inbox_down_and_unready_until_a_delivery_succeeds(
    embedded_broker: EmbeddedBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connectors.outbound_runner")
    with running(None, tmp_path) as registry:
        connector = build("ppk-inbox", settings(registry) | {"retry": FAST_RETRY.model_dump()})
        assert isinstance(connector, OutboundConnector)
        producer = KafkaProducer(bootstrap_servers=[embedded_broker.bootstrap_servers], acks="all")
        run = Running(connector, embedded_broker.bootstrap_servers, tmp_path / "home")
        try:
            first = _publish(producer, connector)
            run.until(lambda: _in_tray(registry) == [first], "the first entry was not delivered")
            run.until(lambda: run.sample("kawal_connector_up") == 1.0, "never up")
            assert run.ready() == (200, {"status": "ok"})

            with registry.offline():
                held = _publish(producer, connector)
                run.until(lambda: _failures(run) >= 2, "the entry was not tried again")
                # Passes that wait to try it again follow: they do not make it up again.
                time.sleep(QUIET_SECONDS)
                assert run.sample("kawal_connector_up") == 0.0
                assert run.ready() == (
                    503,
                    {"status": "degraded", "system": "unreachable", "connector": "ppk-inbox"},
                )
                later = _publish(producer, connector)
                time.sleep(QUIET_SECONDS)
                assert run.sample("kawal_connector_up") == 0.0
                failed = _failures(run)

            run.until(lambda: _in_tray(registry) == [first, held, later], "not delivered in order")
            run.until(lambda: run.sample("kawal_connector_up") == 1.0, "not up again")
            assert run.ready() == (200, {"status": "ok"})
            assert failed <= _failures(run) <= failed + 1  # the pass under way as it came back
            assert _dead_letters(run) is None
        finally:
            run.close()
            producer.close()
            connector.close()
    said = [record.getMessage() for record in caplog.records]
    down = [line for line in said if "its system takes no deliveries" in line]
    back = [line for line in said if "its system takes deliveries again" in line]
    assert len(down) >= 2, said
    assert all("TransientError" in line and "the feed is held at 0:1" in line for line in down)
    assert len(back) == 1, said
    assert "the entry held at 0:1" in back[0]


def _failures(run: Running) -> float:
    return run.sample("kawal_connector_failures_total") or 0.0


def _dead_letters(run: Running) -> float | None:
    """Every dead letter the connector counted; None when it counted none of any reason."""
    samples = [
        sample.value
        for family in run.metrics.registry.collect()
        if family.name == "kawal_connector_dead_letters"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.value
    ]
    return sum(samples) if samples else None
