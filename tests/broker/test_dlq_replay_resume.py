"""``kawal dlq replay`` stopped partway by a broker that stops taking records, then run again.

The broker is frozen (SIGSTOP) once it has acknowledged the first batch: it keeps its
connections and answers nothing, as when it is overloaded or its disk is full. The replay
stops with what it sent and what remains. The frozen broker is then killed, so what it never
answered is never written, and started afresh on the same port, in memory, with the same
letters, written again (what it took before is gone). Run again, the
replay sends only the letters the first run had not sent, so across both runs each letter
reaches its inbound topic once. Before, the letters sent were remembered only at the end, so
the second run sent the first batch again.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer

from connectors.contract import read_topic
from connectors.signed_fixtures import contract_keyring
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.dead_letter_replay import ReplayInterruptedError, replay_dead_letters
from streams.broker.dead_letters import ReplayFilter
from streams.broker.provision import provision_topics
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.topics import DLQ, all_topics, inbound_topic
from tests.brokers import start_ephemeral_broker
from tests.freezing import freeze
from tests.hubtools import signed_report

#: The first batch's topic, then the second's.
SENDERS = ("bawaslu.33", "bkn")
TOPICS = tuple(inbound_topic(sender) for sender in SENDERS)
#: Seconds the replay waits for the frozen broker before it stops (room for a loaded machine).
WAIT = 8.0


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    own = start_ephemeral_broker(tmp_path / "broker")
    try:
        provision_topics([own.bootstrap_servers], all_topics(load_institutions(), 4))
        yield own
    finally:
        own.stop()


def signed_records(codec: AvroCodec) -> list[bytes]:
    """Two reports of each of :data:`SENDERS`, in that order, each signed by its sender."""
    return [signed_report(codec, contract_keyring(), SENDERS[n // 2]) for n in range(4)]


def write_letters(
    bootstrap: list[str], stage: str, rejected_at: datetime, originals: list[bytes]
) -> None:
    """A fixable letter carrying each of ``originals``, from its sender's topic, in order."""
    codec = AvroCodec(default_catalog())
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for number, original in enumerate(originals):
            letter = {
                "stage": stage,
                "reason_code": "unknown_key",
                "reason": "written by the test",
                "source_topic": TOPICS[number // 2],
                "source_partition": 0,
                "source_offset": number,
                "payload": original,
                "sealed_to": "",
                "rejected_at": rejected_at,
            }
            value = codec.encode("kawal.DeadLetter", letter)
            # One partition of kawal.dlq: the replay reads them, and sends them, in order.
            producer.send(DLQ, key=b"case", value=value, partition=0).get(30)
    finally:
        producer.close()


def test_a_replay_the_broker_stops_partway_sends_each_letter_once_when_run_again(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    bootstrap = [broker.bootstrap_servers]
    stage = f"test-{uuid.uuid4().hex[:8]}"
    rejected_at = datetime.now(UTC)
    codec, ring, selection = AvroCodec(default_catalog()), contract_keyring(), ReplayFilter(stage)
    originals = signed_records(codec)
    write_letters(bootstrap, stage, rejected_at, originals)
    acknowledged: list[int] = []

    assert broker.pid is not None
    frozen = broker.pid

    def freeze_after(sent: int) -> None:
        acknowledged.append(sent)
        freeze(frozen)

    stopped: ReplayInterruptedError | None = None
    try:
        finished = replay_dead_letters(
            bootstrap, codec, tmp_path, selection, ring, wait=WAIT, progress=freeze_after, batch=2
        )
    except ReplayInterruptedError as exc:
        stopped = exc
    else:
        # The broker took every batch: say what the replay read and did.
        pytest.fail(f"the replay was not stopped: {finished}, acknowledged {acknowledged}")
    finally:
        os.kill(frozen, signal.SIGKILL)  # a frozen process dies without running again
        broker.stop()
    broker.start()
    provision_topics(bootstrap, all_topics(load_institutions(), 4))
    write_letters(bootstrap, stage, rejected_at, originals)
    again = replay_dead_letters(bootstrap, codec, tmp_path, selection, ring, wait=WAIT)

    assert acknowledged == [2]
    assert stopped is not None
    assert (stopped.sent, stopped.remaining) == (2, 2)
    message = str(stopped)
    assert "2 dead letters were sent back by this replay and are remembered" in message
    assert "2 selected ones were not sent" in message
    assert "run the same `kawal dlq replay` again" in message
    assert (again.replayed, again.already_replayed) == (2, 2)
    sent_again = [
        record.value
        for topic in TOPICS
        for record in read_topic(bootstrap, topic)
        if record.value in originals
    ]
    assert sorted(sent_again) == sorted(originals[2:])
