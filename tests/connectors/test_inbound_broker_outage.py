"""A broker that stops answering for a while holds an inbound connector back; it does not stop it.

The broker is frozen (SIGSTOP): it keeps its connections and answers nothing, as when it is
overloaded or its disk is full. The batch in hand is not checkpointed, so the next pass reads
and sends it again once the broker answers; before, the error ended the connector's process.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path

import pytest
from kafka import KafkaProducer

from connectors.ids import event_id_for
from monitoring.connectors import ConnectorMetrics
from streams.broker.checkpoints import CheckpointStore
from streams.local.embedded import EmbeddedBroker
from tests.connectors.test_inbound_refusals import (
    INSTITUTION,
    NAME,
    AsItComes,
    published_ids,
    report,
    runner_of,
)
from tests.freezing import frozen

pytestmark = pytest.mark.slow


def test_a_batch_the_frozen_broker_does_not_take_is_sent_again_once_it_answers(
    embedded_broker: EmbeddedBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Records expire after 3 s unacknowledged instead of kafka-python's two minutes.
    new_producer = partial(
        KafkaProducer,
        bootstrap_servers=[embedded_broker.bootstrap_servers],
        acks="all",
        request_timeout_ms=2_000,
        delivery_timeout_ms=3_000,
    )
    checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
    first, second = report(), report()
    connector = AsItComes([first])
    runner = runner_of(connector, new_producer(), checkpoints, ConnectorMetrics())
    runner.new_producer = new_producer
    assert runner.run_once() == 1  # the connection is made and the topic's leader known
    connector.reports.append(second)
    assert embedded_broker.pid is not None

    # Every thread stopped: one still running took the batch once (tests.freezing).
    with frozen(embedded_broker.pid), caplog.at_level(logging.WARNING, logger="connectors.runtime"):
        held_back = runner.run_once()
    assert held_back == 0
    assert checkpoints.get(NAME) == "1"
    assert [r.getMessage() for r in caplog.records if r.name == "connectors.runtime"] == [
        f"{NAME}: the broker did not take the batch (KafkaTimeoutError); it is sent again at "
        "the next pass",
    ]
    # kafka-python's producer takes nothing again once the broker froze: the next pass makes
    # a new one, which sends the batch (a few passes, while the broker wakes).
    stale = runner.producer
    deadline = time.monotonic() + 60
    while runner.run_once() == 0:
        assert time.monotonic() < deadline, "the batch was never sent again"
        time.sleep(1)

    assert checkpoints.get(NAME) == "2"
    assert runner.producer is not stale
    published = published_ids([embedded_broker.bootstrap_servers])
    assert second_id(second) in published
    runner.producer.close()
    checkpoints.close()


def second_id(record: dict[str, str]) -> str:
    """The event id the connector gives the report ``record``."""
    return event_id_for(INSTITUTION, record["id"], "ReportReceived")
