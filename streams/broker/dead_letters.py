"""The dead-letter topic ``kawal.dlq``: its letters, which of them replay may send back, filters.

Replay (:mod:`streams.broker.dead_letter_replay`) re-publishes a selected record's original
bytes, with its original key, to the inbound topic it was consumed from
(``kawal.inbound.<institution>``). It sends only back to inbound topics: what goes there is
still signed by its sender, so the hub resends but cannot forge. Every other letter is not
replayable, with what to do instead (:func:`not_replayable_reason`): a record read from an
institution's system is corrected there; an entry of its feed a connector's system refused,
which only the hub writes, is delivered again by the connector from its own position
(``kawal connector run ... --redeliver-from``); a letter keeping only coordinates is sent again
by its sender; one from a topic only the hub writes (the audit sink's, say) is read again
there. Payloads are sealed to the hub (:mod:`streams.domain.hub_sealing`): replay opens them
with the hub's key (:func:`opened_payload`), and listing never shows them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from schemas.codec import AvroCodec, CodecError
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.broker.endpoint import BROKER_WAIT_SECONDS, kafka_client
from streams.broker.topic_end import polls_to_end
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.sealing import DecryptionKeys, open_payload
from streams.topics import DLQ, OUTBOUND_PREFIX, SHARED_INBOUND, institution_of_inbound

log = logging.getLogger(__name__)

#: The schema of every record of ``kawal.dlq``.
DEAD_LETTER = "kawal.DeadLetter"


@dataclass(frozen=True)
class DeadLetterRecord:
    """One record of ``kawal.dlq`` and where it sits there."""

    partition: int
    offset: int
    key: bytes | None
    letter: dict[str, Any]

    @property
    def position(self) -> str:
        """``partition:offset`` in ``kawal.dlq``."""
        return f"{self.partition}:{self.offset}"

    @property
    def replayable(self) -> bool:
        """Whether the record came from an inbound topic and is carried here."""
        return not_replayable_reason(self.letter) is None

    def summary(self) -> dict[str, Any]:
        """The record without its payload (which may hold personal data)."""
        fields = ("stage", "reason_code", "reason", "source_topic", "source_partition")
        return {
            "dlq_position": self.position,
            **{name: self.letter[name] for name in fields},
            "source_offset": self.letter["source_offset"],
            "rejected_at": self.letter["rejected_at"].isoformat(),
        }


def read_dead_letters(
    bootstrap: list[str],
    codec: AvroCodec,
    credentials: BrokerCredentials = PLAINTEXT,
    wait: float = BROKER_WAIT_SECONDS,
) -> Iterator[DeadLetterRecord]:
    """Every record of ``kawal.dlq``, oldest first per partition.

    Raises:
        kafka.errors.KafkaTimeoutError: no broker answered within ``wait`` s, or no record
            came for ``wait`` s before the end of the topic.
    """
    consumer = kafka_client(
        KafkaConsumer,
        bootstrap,
        credentials.client_kwargs(),
        wait,
        enable_auto_commit=False,
        fetch_max_wait_ms=5,
    )
    try:
        partitions = [
            TopicPartition(DLQ, p) for p in sorted(consumer.partitions_for_topic(DLQ) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        for polled in polls_to_end(consumer, partitions, wait):
            for records in polled.values():
                for record in records:
                    letter = _letter_of(codec, record)
                    if letter is not None:
                        yield DeadLetterRecord(record.partition, record.offset, record.key, letter)
    finally:
        consumer.close()


def _letter_of(codec: AvroCodec, record: ConsumerRecord) -> dict[str, Any] | None:
    """The dead letter ``record`` holds; None, said on the log, for one that holds none.

    Only the hub and connectors write ``kawal.dlq``, but a misdirected producer can too: its
    record is skipped, so that the letters around it are still listed and replayed.
    """
    try:
        decoded = codec.decode(record.value or b"")
    except CodecError as exc:
        what = f"it does not decode: {exc}"  # a codec's words name schemas, never values
    else:
        if decoded.full_name == DEAD_LETTER:
            letter: dict[str, Any] = decoded.record
            return letter
        what = f"it is a {decoded.full_name}"
    log.warning(
        "%s:%d:%d holds no dead letter (%s); skipped. Only the hub and connectors write %s: "
        "find the producer that wrote it there",
        DLQ,
        record.partition,
        record.offset,
        what,
        DLQ,
    )
    return None


def not_replayable_reason(letter: dict[str, Any]) -> str | None:
    """Why ``letter`` is not sent back, and what to do instead; None when it is replayable.

    The reason names topics and positions only, never the payload.
    """
    topic = str(letter["source_topic"])
    if topic.startswith("system:"):
        return (
            f"read from the system of connector {topic.removeprefix('system:')}, not from a "
            "topic: correct the record in that system; the connector reads it again when it "
            "is logged anew, or, corrected in place, when restarted once with `--reread-after` "
            "a position before it (docs/connectors.md)"
        )
    if topic.startswith(OUTBOUND_PREFIX):
        position = f"{letter['source_partition']}:{letter['source_offset']}"
        return (
            f"from the feed {topic}, which only the hub writes: once the cause is fixed, "
            f"restart the connector with `kawal connector run NAME --config FILE "
            f"--redeliver-from {position}`; it delivers again from its own position, once "
            "per event"
        )
    if topic != SHARED_INBOUND and institution_of_inbound(topic) is None:
        position = f"{letter['source_partition']}:{letter['source_offset']}"
        return (
            f"from {topic}, not an inbound topic: replay sends only back to "
            f"kawal.inbound or kawal.inbound.<institution>. The record stays on {topic} at "
            f"{position}; once the cause is fixed, read it there again (the audit store: "
            "`kawal replay`)"
        )
    if not letter["payload"]:
        return (
            "only its coordinates are kept (too large, or personal data in clear): its "
            "sender sends it again, sealed"
        )
    return None


@dataclass(frozen=True)
class ReplayFilter:
    """Which dead letters to replay (None: any)."""

    stage: str | None = None
    reason_code: str | None = None
    source_topic: str | None = None

    def given(self) -> dict[str, str]:
        """The fields this filter selects on, with the value each must have."""
        wanted = {
            "stage": self.stage,
            "reason_code": self.reason_code,
            "source_topic": self.source_topic,
        }
        return {name: value for name, value in wanted.items() if value is not None}

    def matches(self, record: DeadLetterRecord) -> bool:
        """Whether ``record`` is selected."""
        return all(record.letter[name] == wanted for name, wanted in self.given().items())


def opened_payload(letter: dict[str, Any], keys: DecryptionKeys) -> bytes:
    """The record a dead letter carries, opened with the hub's key when sealed.

    Raises:
        schemas.errors.KawalError: the hub's key is not held, or the payload does not open.
    """
    if not letter.get("sealed_to"):
        return bytes(letter["payload"])  # written before dead letters were sealed
    coordinates = f"{letter['source_topic']}:{letter['source_partition']}:{letter['source_offset']}"
    private = keys.decryption_key(HUB_INSTITUTION, letter["sealed_to"])
    return open_payload(letter["payload"], private, coordinates)


def held_values(
    records: Iterable[DeadLetterRecord], selection: ReplayFilter
) -> dict[str, dict[str, int]]:
    """For each field ``selection`` selects on, the values ``records`` have and how many each."""
    held: dict[str, Counter[str]] = {name: Counter() for name in selection.given()}
    for record in records:
        for name, values in held.items():
            values[str(record.letter[name])] += 1
    return {name: dict(values) for name, values in held.items()}
