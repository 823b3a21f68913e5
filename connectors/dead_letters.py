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
from streams.domain.free_text import names_someone
from streams.domain.hub_sealing import dead_letter_payload
from streams.domain.keys import KeyRegistry
from streams.topics import DLQ

log = logging.getLogger(__name__)

#: Stage name of connector rejections in ``kawal.dlq``.
CONNECTOR_STAGE = "connector"
#: Seconds to wait for the broker's acknowledgement of a record or a batch.
PUBLISH_TIMEOUT_SECONDS = 30.0
#: Longest record reference a log line quotes, in characters.
MAX_REFERENCE = 120


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
    #: Where a system record is in its system: its reference there (``SourceRecord.source_id``,
    #: such as ``line 4`` or ``decree/17``), which the reason names too; None for a feed entry,
    #: which its coordinates place.
    record: str | None = None

    def place(self) -> str:
        """Where the rejected record came from, for the log: never a value of the record.

        A system record by its reference, unless that reference looks like personal data (a
        long number such as a NIK or NIP, an e-mail address), which a log must not hold; a
        feed entry by ``topic:partition:offset``.
        """
        if self.record is None:
            return f"{self.source_topic}:{self.source_partition}:{self.source_offset}"
        if names_someone(self.record) or len(self.record) > MAX_REFERENCE:
            shown = "(its reference is withheld here: it looks like personal data or is long)"
        else:
            shown = self.record
        return f"record {shown} of {self.source_topic}"


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
    # Where, so the integrator finds the row to correct; why is in the letter (operators) and,
    # for a system record, told to the system by the connector's rejected() hook.
    log.warning(
        "dead-lettered %s as %s",
        rejection.place(),
        rejection.reason_code,
        extra={"stage": CONNECTOR_STAGE, "reason": rejection.reason_code},
    )
