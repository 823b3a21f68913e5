"""Ingress agent: inbound topics → ``kawal.case.events``.

For each record an institution publishes on ``kawal.inbound.<inst>``: decode it, check that it
is a case event sent by the institution that owns the topic and keyed by its case, drop
duplicates of an event already accepted, stamp the ingest time and forward it.

Idempotence: the table ``ingress-seen`` remembers where each event_id was first accepted
(topic:partition:offset). The same record delivered again after a crash is forwarded again
(the ledger is idempotent on event_id); the same event published again is a duplicate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import faust

from monitoring.metrics import Outcome, Stage
from schemas.codec import CodecError, Decoded
from streams.dlq import Reason, dead_letter, guarded, reason_for_codec_error
from streams.headers import SOURCE_HEADER, cloud_event_headers
from streams.topics import institution_of_inbound

if TYPE_CHECKING:
    from streams.hub import Hub

EVENT_NAMESPACE = "kawal.events."


@dataclass(frozen=True)
class Rejection:
    """Why an inbound record is refused."""

    reason: Reason
    detail: str


def register(hub: Hub) -> None:
    """Attach the ingress agent to the hub's app."""

    @hub.app.agent(hub.inbound, name="kawal.ingress")
    async def ingress(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            await guarded(hub, Stage.INGRESS, handle, event.message)
            hub.metrics.processing_seconds.labels(stage=Stage.INGRESS).observe(
                time.perf_counter() - started
            )


async def handle(hub: Hub, message: faust.types.Message) -> None:
    """Accept, forward or reject one inbound record."""
    try:
        # A tombstone (no value) is as undecodable as garbage: the codec says it is truncated.
        decoded = hub.codec.decode(message.value or b"")
    except CodecError as exc:
        await dead_letter(hub, Stage.INGRESS, reason_for_codec_error(exc), str(exc), message)
        return
    rejection = check(decoded, message)
    if rejection is not None:
        await dead_letter(hub, Stage.INGRESS, rejection.reason, rejection.detail, message)
        return
    envelope = decoded.record["envelope"]
    coordinates = f"{message.topic}:{message.partition}:{message.offset}"
    first_seen = hub.ingress_seen.get(envelope["event_id"])
    if first_seen is not None and first_seen != coordinates:
        detail = f"event_id already accepted at {first_seen}; publish each event once"
        await dead_letter(hub, Stage.INGRESS, Reason.DUPLICATE, detail, message)
        hub.metrics.count(Stage.INGRESS, Outcome.DUPLICATE)
        return
    hub.ingress_seen[envelope["event_id"]] = coordinates
    await forward(hub, decoded, message, coordinates)
    hub.metrics.count(Stage.INGRESS, Outcome.ACCEPTED)


def check(decoded: Decoded, message: faust.types.Message) -> Rejection | None:
    """Structural checks of a decoded inbound record; None when it may go on."""
    if not decoded.full_name.startswith(EVENT_NAMESPACE):
        return Rejection(
            Reason.NOT_AN_EVENT,
            f"{decoded.full_name} is not a case event; publish kawal.events.* records only",
        )
    envelope = decoded.record["envelope"]
    sender = institution_of_inbound(message.topic)
    if envelope["source"] != sender:
        return Rejection(
            Reason.SOURCE_MISMATCH,
            f"envelope.source differs from the sender {sender} of this inbound topic; "
            "an institution publishes its own events on its own topic",
        )
    if envelope["event_type"] != decoded.full_name.removeprefix(EVENT_NAMESPACE):
        return Rejection(
            Reason.SCHEMA_MISMATCH,
            f"envelope.event_type does not name the record type {decoded.full_name}",
        )
    if message.key != envelope["case_id"].encode():
        return Rejection(
            Reason.KEY_MISMATCH,
            "the record key must be the event's case_id, so that a case stays in order",
        )
    return None


async def forward(
    hub: Hub, decoded: Decoded, message: faust.types.Message, coordinates: str
) -> None:
    """Stamp the ingest time and send the canonical bytes to ``kawal.case.events``."""
    record: dict[str, Any] = dict(decoded.record)
    envelope = dict(record["envelope"])
    # The broker's timestamp of the inbound record: the same on every redelivery, so the
    # canonical bytes, and with them the hash chain, never depend on when we processed it.
    envelope["ingest_time"] = datetime.fromtimestamp(message.timestamp, UTC)
    record["envelope"] = envelope
    canonical = hub.codec.encode_canonical(decoded.full_name, record)
    headers = [*cloud_event_headers(envelope), (SOURCE_HEADER, coordinates.encode())]
    await hub.case_events.send(key=message.key, value=canonical, headers=headers)
