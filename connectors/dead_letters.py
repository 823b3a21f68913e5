"""How a connector's runtime refuses a record: one ``kawal.DeadLetter`` in ``kawal.dlq``.

A system record the connector cannot map, or a feed entry it cannot believe or deliver, goes
to ``kawal.dlq`` under stage ``connector`` with a machine-readable reason code and a reason
that says what to fix (never a value of the record); the record itself goes sealed to the
hub's operator (:func:`streams.domain.hub_sealing.dead_letter_payload`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaProducer

from schemas.codec import AvroCodec
from streams.domain.hub_sealing import dead_letter_payload
from streams.domain.keys import KeyRegistry
from streams.topics import DLQ

log = logging.getLogger(__name__)

#: Stage name of connector rejections in ``kawal.dlq``.
CONNECTOR_STAGE = "connector"
#: Seconds to wait for the broker's acknowledgement of a record or a batch.
PUBLISH_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Rejection:
    """Where a rejected record came from, and why it was rejected."""

    reason_code: str
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    payload: bytes
    key: bytes | None


def send_dead_letter(
    producer: KafkaProducer, codec: AvroCodec, keys: KeyRegistry, rejection: Rejection
) -> None:
    """Write one ``kawal.DeadLetter`` to ``kawal.dlq`` and wait for the broker.

    The payload, a system record or a feed entry, goes sealed to the hub's operator.
    """
    coordinates = f"{rejection.source_topic}:{rejection.source_partition}:{rejection.source_offset}"
    payload, sealed_to = dead_letter_payload(keys, rejection.payload, coordinates)
    record = {
        "stage": CONNECTOR_STAGE,
        "reason_code": rejection.reason_code,
        "reason": rejection.reason,
        "source_topic": rejection.source_topic,
        "source_partition": rejection.source_partition,
        "source_offset": rejection.source_offset,
        "payload": payload,
        "sealed_to": sealed_to,
        "rejected_at": datetime.now(UTC),
    }
    value = codec.encode("kawal.DeadLetter", record)
    producer.send(DLQ, key=rejection.key, value=value).get(timeout=PUBLISH_TIMEOUT_SECONDS)
    log.warning(
        "dead-lettered a record from %s: %s",
        rejection.source_topic,
        rejection.reason_code,
        extra={"stage": CONNECTOR_STAGE, "reason": rejection.reason_code},
    )
