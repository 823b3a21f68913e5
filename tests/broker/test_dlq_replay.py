"""``kawal dlq replay`` on a real broker: back to inbound topics only, every other letter told why.

Dead letters from four sources are written to ``kawal.dlq``: an inbound topic, an outbound feed
(a connector's delivery failure), the hub's tree heads and an institution's system. Replay
sends the first back to its inbound topic, once; the others are counted as not replayable,
each with what to do instead, and no record is written to the feed or the heads topic.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from connectors.contract import read_topic
from connectors.signed_fixtures import contract_keyring
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.dead_letter_replay import replay_dead_letters
from streams.broker.dead_letters import ReplayFilter
from streams.cli import main
from streams.domain.hub_sealing import dead_letter_payload
from streams.domain.keyring import KeyRing
from streams.topics import DLQ, HEADS, inbound_topic, outbound_topic
from tests.hubtools import signed_report

SOURCES = (inbound_topic("bawaslu.33"), outbound_topic("bkn"), HEADS, "system:siasn")


def values_on(bootstrap: list[str], topic: str) -> list[bytes]:
    """Every record value of ``topic``, read to its end."""
    return [record.value for record in read_topic(bootstrap, topic)]


def write_letters(
    bootstrap: list[str], codec: AvroCodec, ring: KeyRing, stage: str
) -> dict[str, bytes]:
    """One sealed dead letter per source of :data:`SOURCES`; each one's original record."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    originals = {}
    try:
        for number, topic in enumerate(SOURCES):
            # Only the inbound record is sent back, and only as its institution signed it.
            original = signed_report(codec, ring) if topic == SOURCES[0] else uuid.uuid4().bytes
            coordinates = f"{topic}:0:{number}"
            payload, sealed_to = dead_letter_payload(ring.registry, original, coordinates)
            letter = {
                "stage": stage,
                "reason_code": "test",
                "reason": "written by the test",
                "source_topic": topic,
                "source_partition": 0,
                "source_offset": number,
                "payload": payload,
                "sealed_to": sealed_to,
                "rejected_at": datetime.now(UTC),
            }
            value = codec.encode("kawal.DeadLetter", letter)
            producer.send(DLQ, key=b"case", value=value).get(30)
            originals[topic] = original
    finally:
        producer.close()
    return originals


@dataclass(frozen=True)
class Written:
    """Letters of :func:`write_letters` under a stage of one test's own."""

    codec: AvroCodec
    ring: KeyRing
    stage: str
    originals: dict[str, bytes]


@pytest.fixture
def written(kawal_broker: list[str]) -> Written:
    codec, ring = AvroCodec(default_catalog()), contract_keyring()
    stage = f"test-{uuid.uuid4().hex[:8]}"
    return Written(codec, ring, stage, write_letters(kawal_broker, codec, ring, stage))


def test_replay_sends_only_the_inbound_letter_and_tells_why_not_the_others(
    kawal_broker: list[str], written: Written, tmp_path: Path
) -> None:
    codec, ring, originals = written.codec, written.ring, written.originals
    selection = ReplayFilter(stage=written.stage)

    outcome = replay_dead_letters(kawal_broker, codec, tmp_path, selection, ring)
    again = replay_dead_letters(kawal_broker, codec, tmp_path, selection, ring)

    assert (outcome.replayed, outcome.already_replayed, outcome.not_replayable) == (1, 0, 3)
    assert outcome.unmatched == {}
    assert (again.replayed, again.already_replayed, again.not_replayable) == (0, 1, 3)
    reasons = [reason for _, reason in outcome.refusals]
    assert "only the hub writes" in reasons[0]
    assert "--redeliver-from 0:1" in reasons[0]
    assert f"stays on {HEADS} at 0:2" in reasons[1]
    assert "correct the record in that system" in reasons[2]
    inbound, feed, heads, _ = SOURCES
    assert values_on(kawal_broker, inbound).count(originals[inbound]) == 1
    assert originals[feed] not in values_on(kawal_broker, feed)
    assert originals[HEADS] not in values_on(kawal_broker, heads)


def test_a_filter_that_selects_nothing_names_the_values_the_letters_have(
    kawal_broker: list[str], written: Written, tmp_path: Path
) -> None:
    # Each value is held by some letter, but no letter has both.
    mistyped = ReplayFilter(stage=written.stage, reason_code="tset")
    outcome = replay_dead_letters(kawal_broker, written.codec, tmp_path, mistyped, written.ring)

    assert (outcome.replayed, outcome.not_replayable) == (0, 0)
    assert outcome.unmatched["stage"][written.stage] == len(SOURCES)
    assert outcome.unmatched["reason_code"]["test"] >= len(SOURCES)
    assert set(outcome.unmatched) == {"stage", "reason_code"}


@pytest.mark.usefixtures("written")
def test_kawal_dlq_replay_tells_a_mistyped_reason_on_stderr(
    kawal_broker: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    monkeypatch.setenv("KAWAL_BROKER_URL", f"kafka://{kawal_broker[0]}")

    code = main(["dlq", "replay", "--reason", "no-such-reason"])

    printed = capsys.readouterr()
    assert code == 0
    assert "replayed 0" in printed.out
    assert "no dead letter matches the filter" in printed.err
    assert "  --reason: " in printed.err
    assert "test (" in printed.err


#: Letters replayed while each is refused again as it comes back.
LOOPED = 20


def _refuse_again(
    bootstrap: list[str],
    codec: AvroCodec,
    topic: str,
    stage: str,
    payloads: set[bytes],
    ready: threading.Event,
) -> None:
    """Dead-letter the ``payloads`` records of ``topic`` again as they come, as ingress would."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=5)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    consumer.poll(timeout_ms=200)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    ready.set()
    count = LOOPED
    try:
        refused = 0
        while refused < count:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    if record.value not in payloads:
                        continue
                    letter = {
                        "stage": stage,
                        "reason_code": "test",
                        "reason": "refused again",
                        "source_topic": topic,
                        "source_partition": record.partition,
                        "source_offset": record.offset,
                        "payload": record.value,
                        "sealed_to": "",
                        "rejected_at": datetime.now(UTC),
                    }
                    producer.send(
                        DLQ, key=b"case", value=codec.encode("kawal.DeadLetter", letter)
                    ).get(30)
                    refused += 1
    finally:
        producer.close()
        consumer.close()


def test_letters_refused_again_while_replay_runs_are_not_replayed_by_it(
    kawal_broker: list[str], tmp_path: Path
) -> None:
    """A record refused again (fix not made yet, or garbage) is not sent round in a loop."""
    codec, ring = AvroCodec(default_catalog()), contract_keyring()
    stage = f"test-{uuid.uuid4().hex[:8]}"
    topic = inbound_topic("bawaslu.33")
    letters, others = LOOPED, 30000
    payloads = [signed_report(codec, ring) for _ in range(letters)]
    producer = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    # One partition: the selected letters first, then others, read while the refused come back.
    for offset in range(letters + others):
        letter = {
            "stage": stage if offset < letters else f"{stage}-other",
            "reason_code": "test",
            "reason": "written by the test",
            "source_topic": topic,
            "source_partition": 0,
            "source_offset": offset,
            "payload": payloads[offset] if offset < letters else f"{stage}-{offset}".encode(),
            "sealed_to": "",
            "rejected_at": datetime.now(UTC),
        }
        producer.send(DLQ, key=b"case", value=codec.encode("kawal.DeadLetter", letter))
    producer.flush(30)
    producer.close()
    ready = threading.Event()
    refuser = threading.Thread(
        target=_refuse_again,
        args=(kawal_broker, codec, topic, stage, set(payloads), ready),
        daemon=True,
    )
    refuser.start()
    assert ready.wait(30)

    outcome = replay_dead_letters(kawal_broker, codec, tmp_path, ReplayFilter(stage), ring)

    refuser.join(60)
    assert outcome.replayed == letters
    sent = [value for value in values_on(kawal_broker, topic) if value in payloads]
    assert len(sent) == letters
