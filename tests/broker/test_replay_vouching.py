"""A DLQ replay writes into an institution's inbound topic only a record that institution signed.

Every institution may write ``kawal.dlq``; the replay sends with the operator's credentials.
The forgeries of a PPK that can reach the broker: its own bytes, or its own signed record,
named as from BKN's topic or the hub's; a record signed with a key nobody registered, or whose
signature was spoiled; and a topic of no institution. Each is refused with its reason, on the
real broker nothing is written, and the genuine letter beside them is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer

from connectors.contract import read_topic
from connectors.signed_fixtures import contract_keyring
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.broker.dead_letter_replay import replay_dead_letters
from streams.broker.dead_letters import ReplayFilter
from streams.broker.replay_vouching import unvouched_reason
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.keyring import KeyRing
from streams.domain.signed_events import SIGNED_EVENT, encode_signed
from streams.topics import DLQ, SHARED_INBOUND, inbound_topic
from tests.hubtools import report, signed_report

CODEC = AvroCodec(default_catalog())


def spoiled(value: bytes) -> bytes:
    """``value`` with the last byte of its signature flipped."""
    signed = CODEC.decode(value).record
    signature = bytearray(signed["signature"])
    signature[-1] ^= 1
    return CODEC.encode(SIGNED_EVENT, {**signed, "signature": bytes(signature)}, checked=False)


def test_a_record_its_topics_institution_signed_is_vouched_for() -> None:
    ring = contract_keyring()
    own = signed_report(CODEC, ring, "bawaslu.33")

    assert unvouched_reason(CODEC, ring.registry, inbound_topic("bawaslu.33"), own) is None
    assert unvouched_reason(CODEC, ring.registry, SHARED_INBOUND, own) is None


def unsigned() -> bytes:
    """A report as its sender would sign it, sent bare."""
    event = CODEC.decode(signed_report(CODEC, contract_keyring())).record["event"]
    return CODEC.encode("ReportReceived", CODEC.decode(event).record)


def of_a_stranger() -> bytes:
    """A report of bawaslu.33 signed with a key no registry holds."""
    stranger = KeyRing.generated(["bawaslu.33", "kawal"], datetime(2000, 1, 1, tzinfo=UTC))
    return signed_report(CODEC, stranger, "bawaslu.33")


def misnamed(signer: str, source: str) -> bytes:
    """A report naming ``source`` as its source, signed with ``signer``'s key."""
    ring = contract_keyring()
    record = report(source)
    moment = record["envelope"]["event_time"]
    key, hub = ring.signing_key(signer, moment), hub_sealing_key(ring.registry, moment)
    return encode_signed(CODEC.catalog, CODEC, key, "ReportReceived", record, hub)


#: Forgeries a PPK that may write kawal.dlq could name: the record, the topic it names, what
#: the refusal must say.
FORGERIES: list[tuple[str, Callable[[], bytes], str, tuple[str, ...]]] = [
    (
        "bytes nobody signed",
        lambda: b"FORGED-BY-PPK",
        inbound_topic("bkn"),
        ("does not decode, so nothing shows it is bkn's", "signed by the institution that owns"),
    ),
    ("unsigned", unsigned, inbound_topic("bawaslu.33"), ("is refused as unsigned",)),
    (
        "another's record on bkn's topic",
        lambda: signed_report(CODEC, contract_keyring(), "ppk.3374"),
        inbound_topic("bkn"),
        ("names ppk.3374 as its source, and kawal.inbound.bkn is bkn's",),
    ),
    (
        "another's record on the hub's topic",
        lambda: signed_report(CODEC, contract_keyring(), "ppk.3374"),
        inbound_topic("kawal"),
        ("names ppk.3374 as its source, and kawal.inbound.kawal is kawal's",),
    ),
    (
        "the topic's owner naming another source",
        lambda: misnamed("bkn", "ppk.3374"),
        inbound_topic("bkn"),
        ("is signed with bkn's key", "bkn sets envelope.source to bkn"),
    ),
    (
        "a key the registry does not hold",
        of_a_stranger,
        inbound_topic("bawaslu.33"),
        ("which the key registry does not hold as bawaslu.33's", "kawal keys new"),
    ),
    (
        "a spoiled signature",
        lambda: spoiled(signed_report(CODEC, contract_keyring(), "bawaslu.33")),
        inbound_topic("bawaslu.33"),
        ("signature does not verify",),
    ),
    (
        "a topic of no registered institution",
        lambda: signed_report(CODEC, contract_keyring(), "bawaslu.33"),
        inbound_topic("zzzstray"),
        ("zzzstray's",),
    ),
]


@pytest.mark.parametrize(
    ("record", "topic", "said"), [f[1:] for f in FORGERIES], ids=[f[0] for f in FORGERIES]
)
def test_a_forged_record_is_not_vouched_for_and_told_why(
    record: Callable[[], bytes], topic: str, said: tuple[str, ...]
) -> None:
    reason = unvouched_reason(CODEC, contract_keyring().registry, topic, record())

    assert reason is not None
    for words in said:
        assert words in reason


def test_replay_on_the_broker_sends_the_genuine_letter_and_none_of_the_forged(
    kawal_broker: list[str], tmp_path: Path
) -> None:
    ring, stage = contract_keyring(), f"test-{uuid.uuid4().hex[:8]}"
    genuine = signed_report(CODEC, ring, "bawaslu.33")
    ppk = signed_report(CODEC, ring, "ppk.3374")
    letters = [
        (inbound_topic("bawaslu.33"), genuine),
        (inbound_topic("bkn"), b"FORGED-BY-PPK-" + uuid.uuid4().bytes),
        (inbound_topic("bkn"), ppk),
        (inbound_topic("kawal"), ppk),
    ]
    producer = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    for offset, (topic, payload) in enumerate(letters):
        letter = {
            "stage": stage,
            "reason_code": "forged_test",
            "reason": "written by a PPK",
            "source_topic": topic,
            "source_partition": 0,
            "source_offset": offset,
            "payload": payload,
            "sealed_to": "",
            "rejected_at": datetime.now(UTC),
        }
        producer.send(DLQ, key=b"case", value=CODEC.encode("kawal.DeadLetter", letter))
    producer.flush(30)
    producer.close()

    outcome = replay_dead_letters(kawal_broker, CODEC, tmp_path, ReplayFilter(stage), ring)

    assert (outcome.replayed, outcome.not_replayable) == (1, 3)
    reasons = sorted(reason for _, reason in outcome.refusals)
    assert "does not decode, so nothing shows it is bkn's" in reasons[0]
    assert "kawal.inbound.bkn is bkn's" in reasons[1]
    assert "kawal.inbound.kawal is kawal's" in reasons[2]
    assert genuine in [r.value for r in read_topic(kawal_broker, inbound_topic("bawaslu.33"))]
    for topic in (inbound_topic("bkn"), inbound_topic("kawal")):
        written = [r.value for r in read_topic(kawal_broker, topic)]
        assert not any(value.startswith(b"FORGED-BY-PPK-") or value == ppk for value in written)
