"""An outbound connector holds its feed at an entry its system does not take; it skips nothing.

Bawaslu's callback API (the simulator) answers 503 for a while. Before, each entry of the
outage was dead-lettered ``delivery_failed`` after its retries and the connector went on, so
the outage's entries waited for an operator's ``--redeliver-from`` and could reach Bawaslu out
of order. Now the runner holds the feed at the first entry not delivered, tries it again pass
after pass, and once Bawaslu is back delivers it and every entry after it, once each and in
order, dead-lettering none. An entry Bawaslu refuses as such is still dead-lettered, and the
runner goes on; a stop while holding ends the connector at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.base import ConnectorConfig, OutboundConnector
from connectors.bawaslu.simulator import BawasluSystem
from connectors.contract import read_topic
from connectors.feed_chains import FeedChains
from connectors.host import build, run_connector
from connectors.outbound_runner import OutboundRunner
from connectors.retry import RetryPolicy
from connectors.signed_fixtures import contract_keyring, feed_entry_record
from connectors.simulation import Answer
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.topics import DLQ, outbound_topic
from tests import hubtools

BAWASLU = "bawaslu.33"
FEED = outbound_topic(BAWASLU)
NAME = "bawaslu-callback"
TOKEN = "callback-token-0123456789"
#: Two tries a pass; the waits between passes double from 0.04 s up to 0.1 s.
QUICK = RetryPolicy(attempts=2, initial_seconds=0.02, max_seconds=0.1)
#: Personal values of the reports delivered: never in a log line.
PERSONAL = {
    "subject_name": "Siti Rahmawati",
    "subject_nip": "198703152011012004",
    "reporter_identity": "Budi Santoso Wibowo",
    "summary": "Membagikan materi kampanye paslon nomor 2 di grup WhatsApp dinas.",
}
#: Failed passes the outage lasts at least.
PASSES_DOWN = 3
DEADLINE = 60.0


class Bawaslu(BawasluSystem):
    """Bawaslu's callback API, keeping the event id of every status update it is sent."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9/unused", "unused-secret", TOKEN)
        #: Event ids of every update posted, answered or not, in the order they came.
        self.asked: list[str] = []
        #: Event ids of the updates it answered 201 (recorded) or 409 (recorded before).
        self.taken: list[str] = []
        #: Event ids it answers 400, an update it cannot take as it is.
        self.unreadable: set[str] = set()

    def answer(self, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Bawaslu's answer, the update's event id kept."""
        event_id = str(json.loads(body).get("event_id"))
        self.asked.append(event_id)
        if event_id in self.unreadable:
            return 400, {"error": "invalid_update", "message": "details do not fit"}
        status, answer = super().answer(path, headers, body)
        if status in (201, 409):
            self.taken.append(event_id)
        return status, answer


@pytest.fixture
def bawaslu() -> Iterator[Bawaslu]:
    """Bawaslu's callback API, up."""
    with Bawaslu() as system:
        yield system


def _callback(system: Bawaslu, retry: RetryPolicy = QUICK) -> OutboundConnector[ConnectorConfig]:
    config = {
        "institution": BAWASLU,
        "callback_url": system.callback_url,
        "token": TOKEN,
        "timeout_seconds": 0.5,
        "retry": retry.model_dump(),
    }
    connector = build(NAME, config)
    assert isinstance(connector, OutboundConnector)
    return connector


def _publish(
    bootstrap: str, connector: OutboundConnector[ConnectorConfig], count: int
) -> list[str]:
    """``count`` new cases' reports on Bawaslu's feed, in this order; their event ids."""
    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all")
    ids = []
    try:
        for _ in range(count):
            record = hubtools.report(BAWASLU) | PERSONAL
            entry = feed_entry_record(connector.context, "ReportReceived", record, BAWASLU)
            value = connector.context.codec.encode("kawal.AuditEntry", entry)
            case = str(entry["case_id"]).encode()
            producer.send(FEED, key=case, value=value).get(30)
            ids.append(str(entry["event_id"]))
    finally:
        producer.close()
    return ids


def _runner(
    connector: OutboundConnector[ConnectorConfig], bootstrap: str, metrics: ConnectorMetrics
) -> OutboundRunner:
    """The connector's runner, reading its whole feed as a group of its own."""
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], group_id=NAME, enable_auto_commit=False)
    partitions = [TopicPartition(FEED, p) for p in sorted(consumer.partitions_for_topic(FEED))]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    return OutboundRunner(
        connector,
        consumer,
        KafkaProducer(bootstrap_servers=[bootstrap], acks="all"),
        connector.context.codec,
        connector.config.retry,
        contract_keyring(),
        FeedChains(":memory:"),
        probe=metrics.probe(NAME, BAWASLU),
    )


def _passes_until(runner: OutboundRunner, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, what
        runner.run_once(timeout_ms=100)


def _sample(metrics: ConnectorMetrics, name: str) -> float | None:
    labels = {"connector": NAME, "institution": BAWASLU}
    return metrics.registry.get_sample_value(name, labels)


def _letters_from_the_feed(bootstrap: str) -> list[dict[str, Any]]:
    codec = AvroCodec(default_catalog())
    letters = [codec.decode(message.value).record for message in read_topic([bootstrap], DLQ)]
    return [letter for letter in letters if letter["source_topic"] == FEED]


def _committed(runner: OutboundRunner) -> int | None:
    committed = runner.consumer.committed(TopicPartition(FEED, 0))
    return committed if committed is None else int(committed)


def _close(runner: OutboundRunner) -> None:
    runner.consumer.close()
    runner.producer.close()
    runner.connector.close()


def test_an_outage_holds_the_feed_and_delivers_every_entry_once_in_order_once_back(
    own_broker: str, bawaslu: Bawaslu, caplog: pytest.LogCaptureFixture
) -> None:
    connector = _callback(bawaslu)
    metrics = ConnectorMetrics()
    runner = _runner(connector, own_broker, metrics)
    caplog.set_level(logging.DEBUG, logger="connectors")
    try:
        [before] = _publish(own_broker, connector, 1)
        _passes_until(runner, lambda: bawaslu.taken == [before], "the first entry not delivered")
        assert _sample(metrics, "kawal_connector_up") == 1.0

        bawaslu.unavailable_rate = 1.0  # down for maintenance: every update answered 503
        outage = _publish(own_broker, connector, 4)
        _passes_until(
            runner,
            lambda: _sample(metrics, "kawal_connector_failures_total") == PASSES_DOWN,
            "the held entry was not tried again pass after pass",
        )
        # Held at the outage's first entry: nothing after it was asked, nothing committed past.
        assert set(bawaslu.asked[1:]) == {outage[0]}
        assert _committed(runner) == 1
        assert _sample(metrics, "kawal_connector_up") == 0.0
        assert metrics.readiness() == (
            503,
            {"status": "degraded", "system": "unreachable", "connector": NAME},
        )

        bawaslu.unavailable_rate = 0.0
        _passes_until(runner, lambda: len(bawaslu.taken) == 5, "not delivered once back")
        for _ in range(5):  # passes with nothing more to deliver deliver nothing again
            runner.run_once(timeout_ms=100)
        assert bawaslu.taken == [before, *outage]
        assert _committed(runner) == 5
        assert _sample(metrics, "kawal_connector_up") == 1.0
        assert metrics.readiness() is None
        failed = _sample(metrics, "kawal_connector_failures_total")
        assert failed is not None
        assert failed >= PASSES_DOWN
        assert _sample(metrics, "kawal_connector_records_total") == 5
    finally:
        _close(runner)
    assert _letters_from_the_feed(own_broker) == []
    said = [r.getMessage() for r in caplog.records if r.name.startswith("connectors")]
    down = [line for line in said if "its system takes no deliveries" in line]
    back = [line for line in said if "its system takes deliveries again" in line]
    assert len(down) == failed
    held_at = f"the feed is held at 0:1 (event {outage[0]}), nothing after it is delivered"
    assert all(
        held_at in line and "TransientError: Bawaslu answered HTTP 503" in line for line in down
    )
    assert "the same entry is tried again in 0.0" in down[0]  # 0.04 s after the first pass
    assert "the same entry is tried again in 0.1 s" in down[-1]
    assert back == [
        f"{NAME}: its system takes deliveries again; the entry held at 0:1 (event {outage[0]}) "
        f"is settled after {int(failed)} passes given up on it, and the feed goes on"
    ]
    everything = "\n".join(said)
    assert not [value for value in PERSONAL.values() if value in everything]


def test_an_entry_refused_as_it_is_is_dead_lettered_and_the_next_delivered(
    own_broker: str, bawaslu: Bawaslu
) -> None:
    connector = _callback(bawaslu)
    metrics = ConnectorMetrics()
    runner = _runner(connector, own_broker, metrics)
    refused, *later = _publish(own_broker, connector, 3)
    bawaslu.unreadable.add(refused)
    try:
        _passes_until(runner, lambda: bawaslu.taken == later, "the entries after not delivered")
        _passes_until(runner, lambda: _committed(runner) == 3, "not committed past all three")
        assert _sample(metrics, "kawal_connector_up") == 1.0
        assert _sample(metrics, "kawal_connector_failures_total") == 0
        assert _sample(metrics, "kawal_connector_records_total") == 2
        assert not runner.holds
    finally:
        _close(runner)
    [letter] = _letters_from_the_feed(own_broker)
    assert (letter["source_partition"], letter["source_offset"]) == (0, 0)
    assert letter["reason_code"] == "callback_rejected"
    assert letter["reason"].startswith(f"event {refused}: Bawaslu rejected the status update")
    labels = {"connector": NAME, "institution": BAWASLU, "reason": "callback_rejected"}
    assert metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) == 1
    assert bawaslu.asked.count(refused) == 1  # refused as it is: never asked again


def test_a_stop_while_holding_ends_the_connector_at_once(
    own_broker: str, bawaslu: Bawaslu, tmp_path: Path
) -> None:
    # One try a pass, then half a minute before the next: the stop comes in that wait.
    patient = RetryPolicy(attempts=1, initial_seconds=30.0, max_seconds=30.0)
    connector = _callback(bawaslu, patient)
    bawaslu.unavailable_rate = 1.0
    [held] = _publish(own_broker, connector, 1)
    metrics = ConnectorMetrics()
    stop, ended = threading.Event(), list[BaseException]()
    keyring = contract_keyring()

    def run() -> None:
        try:
            run_connector(
                connector, [own_broker], tmp_path / "home", stop, keyring=keyring, metrics=metrics
            )
        except BaseException as exc:  # the test reads it
            ended.append(exc)

    thread = threading.Thread(target=run, name="holding-callback")
    thread.start()
    try:
        deadline = time.monotonic() + DEADLINE
        while _sample(metrics, "kawal_connector_failures_total") != 1.0:
            assert thread.is_alive(), f"the connector ended: {ended!r}"
            assert time.monotonic() < deadline, "the entry was never held"
            time.sleep(0.1)
        assert _sample(metrics, "kawal_connector_up") == 0.0
    finally:
        asked = time.monotonic()
        stop.set()
        thread.join(DEADLINE)
    took = time.monotonic() - asked
    assert not thread.is_alive()
    assert ended == []
    assert took < 5.0, f"the stop took {took:.1f} s"
    assert bawaslu.asked == [held]
    assert _letters_from_the_feed(own_broker) == []
