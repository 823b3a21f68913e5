"""A broker that stops answering for a while holds an outbound connector back; it does not stop it.

The connector runs as ``kawal connector run`` runs it (:func:`connectors.host.run_connector`).
Its system goes down on a feed entry, so the feed is to be held at that entry, and the broker is
frozen (SIGSTOP) before the pass commits: it keeps its connections and answers nothing, as when
it is overloaded or its disk is full. Nothing is committed past that entry, so once the broker
and the system are back the connector delivers it and every entry after it; before, the error
ended the connector's process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.base import ConnectorConfig, ConnectorContext, FeedEntry, OutboundConnector
from connectors.errors import TransientError
from connectors.feed_chains import FeedChains
from connectors.host import run_connector
from connectors.outbound_runner import OutboundRunner
from connectors.retry import RetryPolicy
from connectors.signed_fixtures import contract_keyring, feed_entry_record
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.local.embedded import EmbeddedBroker
from streams.topics import HEADS, outbound_topic
from tests.freezing import freeze, thaw
from tests.hubtools import recommendation, report

pytestmark = pytest.mark.slow

PPK = "ppk.3374"
#: Entries of the feed after the first, which the connector delivers before the outage.
LATER = 5
#: Seconds any one condition is waited for: far more than it takes, even on a busy machine.
DEADLINE = 120.0


class Inbox(OutboundConnector[ConnectorConfig]):
    """A system that keeps the event ids delivered into it, and goes down when told.

    The first delivery it refuses while down waits until the test froze the broker, so the
    commit that follows (up to the entry held) meets a broker that does not answer.
    """

    name = "outage-inbox"

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self.delivered: list[str] = []
        self.down = threading.Event()
        #: Set by the first delivery refused while down; it then waits for ``frozen``.
        self.refusing = threading.Event()
        self.frozen = threading.Event()

    def deliver(self, entry: FeedEntry) -> None:
        """Keep the entry's event id, or refuse it while down."""
        if self.down.is_set():
            if not self.refusing.is_set():
                self.refusing.set()
                self.frozen.wait(DEADLINE)
            raise TransientError("the inbox is down")
        self.delivered.append(entry.event_id)


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """The runner's lines about a broker that did not answer, each with its error's type."""
    found = []
    for record in caplog.records:
        line = record.getMessage()
        if record.name == "connectors.outbound_runner" and "the broker did not answer" in line:
            found.append((line, line.partition("(")[2].partition(")")[0]))
    return found


def _publish_entry(producer: KafkaProducer, inbox: Inbox) -> str:
    """One new case's RecommendationIssued on the PPK's feed; its event id."""
    case_id = report()["envelope"]["case_id"]
    entry = feed_entry_record(inbox.context, "RecommendationIssued", recommendation(case_id), PPK)
    value = inbox.context.codec.encode("kawal.AuditEntry", entry)
    producer.send(outbound_topic(PPK), key=case_id.encode(), value=value).get(30)
    return str(entry["event_id"])


@pytest.mark.timeout(900)
def test_a_commit_the_frozen_broker_does_not_take_skips_no_entry(
    embedded_broker: EmbeddedBroker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = default_catalog()
    fast = RetryPolicy(attempts=2, initial_seconds=0.05, max_seconds=0.05)
    inbox = Inbox(
        ConnectorConfig(institution=PPK, retry=fast),
        ConnectorContext(catalog, AvroCodec(catalog)),
    )
    bootstrap = [embedded_broker.bootstrap_servers]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    stop, ended = threading.Event(), list[BaseException]()
    # Made once, here: two threads asking for it first at once would get two rings.
    keyring = contract_keyring()

    def run() -> None:
        try:
            run_connector(
                inbox,
                bootstrap,
                tmp_path / "home",
                stop,
                keyring=keyring,
                metrics=ConnectorMetrics(),
            )
        except BaseException as exc:  # the test reads it: the connector must not end
            ended.append(exc)

    connector = threading.Thread(target=run, name="outage-inbox")
    caplog.set_level(logging.WARNING, logger="connectors.outbound_runner")
    try:
        connector.start()
        first = _publish_entry(producer, inbox)
        _until(lambda: inbox.delivered == [first], "the first entry was never delivered")

        inbox.down.set()
        later = [_publish_entry(producer, inbox) for _ in range(LATER)]
        _until(inbox.refusing.is_set, "the inbox was never called while down")
        assert embedded_broker.pid is not None
        freeze(embedded_broker.pid)
        try:
            inbox.frozen.set()
            _until(
                lambda: bool(_outage_lines(caplog)) or not connector.is_alive(),
                "the connector never met the frozen broker",
            )
            inbox.down.clear()
        finally:
            thaw(embedded_broker.pid)

        _until(
            lambda: set(later) <= set(inbox.delivered) or not connector.is_alive(),
            "the entries after the outage were never delivered",
        )
        assert connector.is_alive(), f"the connector ended: {ended!r}"
        assert set(inbox.delivered) == {first, *later}
        assert inbox.delivered[0] == first
    finally:
        stop.set()
        connector.join(DEADLINE)
        producer.close()
    assert not connector.is_alive()
    assert ended == []
    # What ops read: the connector and the error's type, nothing of an entry.
    said = (
        f"{inbox.name}: the broker did not answer ({{}}); nothing is committed past what "
        "was delivered, and the next pass goes on from the first entry not handled"
    )
    lines = _outage_lines(caplog)
    assert lines
    assert all(kind.isidentifier() and line == said.format(kind) for line, kind in lines)


class Crashing(Inbox):
    """A system whose connector meets a machine failure (a disk) on one entry: it ends the pass."""

    name = "crashing-inbox"

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self.crash_on = ""

    def deliver(self, entry: FeedEntry) -> None:
        """Keep the entry's event id, or fail on ``crash_on``."""
        if entry.event_id == self.crash_on:
            raise OSError(5, "Input/output error")
        super().deliver(entry)


def _until_it_fails(runner: OutboundRunner) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        runner.run_once(timeout_ms=200)


def test_a_pass_ended_by_a_failure_commits_no_partition_past_what_it_handled(
    embedded_broker: EmbeddedBroker,
) -> None:
    """A partition's commit covers its own records, not those of another not handled yet.

    Before, the commit after the first partition of a pass (here the heads') also committed
    the position of the others fetched with it: a process ending before it handled them
    skipped their entries when started again.
    """
    catalog = default_catalog()
    inbox = Crashing(
        ConnectorConfig(institution=PPK), ConnectorContext(catalog, AvroCodec(catalog))
    )
    bootstrap = [embedded_broker.bootstrap_servers]
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(HEADS, value=b"not a tree head").get(30)  # dead-lettered: settled
    inbox.crash_on = _publish_entry(producer, inbox)
    never = _publish_entry(producer, inbox)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=inbox.name, enable_auto_commit=False
    )
    partitions = [TopicPartition(HEADS, 0), TopicPartition(outbound_topic(PPK), 0)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    runner = OutboundRunner(
        inbox,
        consumer,
        producer,
        inbox.context.codec,
        RetryPolicy(attempts=1),
        contract_keyring(),
        FeedChains(":memory:"),
    )
    try:
        with pytest.raises(OSError, match="Input/output error"):
            _until_it_fails(runner)
        committed = [consumer.committed(partition) for partition in partitions]
    finally:
        consumer.close()
        producer.close()
    assert never not in inbox.delivered
    assert committed[1] is None, "committed past an entry never delivered"
    assert committed[0] in (None, 1)
