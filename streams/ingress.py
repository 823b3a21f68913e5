"""Ingress agent: inbound topics → ``kawal.case.events``.

For each record an institution publishes on ``kawal.inbound.<inst>``: decode it, check that it
is a case event sent by the institution that owns the topic and keyed by its case, drop
duplicates of an event already accepted, authorize the sender (:mod:`streams.authorization`),
check the case's lifecycle (:mod:`streams.lifecycle`), stamp the ingest time and forward it.
Whatever is refused goes to the DLQ and is answered with a rejection receipt.

Idempotence: the case's lifecycle (table ``case-lifecycle``) remembers where each of its
events was accepted (topic:partition:offset). The same record delivered again after a crash
is forwarded again (the ledger is idempotent on event_id); the same event published again is
a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import faust

from monitoring.metrics import Outcome, Stage
from schemas.codec import CodecError, Decoded
from streams.authority import AuthorityMapError
from streams.authorization import authorize
from streams.deadlines import update_clocks
from streams.dlq import dead_letter, reason_for_codec_error, register_per_event
from streams.headers import SOURCE_HEADER, cloud_event_headers
from streams.lifecycle import CaseLifecycle, advance, check_transition, start
from streams.reasons import Reason, Rejection
from streams.receipts import coordinates, rejection_receipt, send_receipt
from streams.topics import institution_of_inbound

if TYPE_CHECKING:
    from streams.hub import Hub

EVENT_NAMESPACE = "kawal.events."


def register(hub: Hub) -> None:
    """Attach the ingress agent to the hub's app."""
    register_per_event(hub, hub.inbound, "kawal.ingress", Stage.INGRESS, handle)


async def handle(hub: Hub, message: faust.types.Message) -> None:
    """Accept and forward one inbound record, or refuse it with a reason."""
    try:
        # A tombstone (no value) is as undecodable as garbage: the codec says it is truncated.
        decoded = hub.codec.decode(message.value or b"")
    except CodecError as exc:
        await refuse(hub, Rejection(reason_for_codec_error(exc), str(exc)), message, None)
        return
    rejection = check(decoded, message)
    if rejection is not None:
        await refuse(hub, rejection, message, decoded.record.get("envelope"))
        return
    envelope = decoded.record["envelope"]
    position = f"{message.topic}:{message.partition}:{message.offset}"
    case = CaseLifecycle.from_json(hub.lifecycles.get(envelope["case_id"]))
    first_seen = case.accepted.get(envelope["event_id"]) if case else None
    if first_seen == position:
        # Redelivered after a crash: it was accepted before, so forward it again unchecked.
        await forward(hub, decoded, message, position)
        return
    if first_seen is not None:
        detail = f"event_id already accepted at {first_seen}; publish each event once"
        await refuse(hub, Rejection(Reason.DUPLICATE, detail), message, envelope)
        hub.metrics.count(Stage.INGRESS, Outcome.DUPLICATE)
        return
    rejection = admit(hub, decoded, case, position)
    if rejection is not None:
        await refuse(hub, rejection, message, envelope)
        return
    await forward(hub, decoded, message, position)
    hub.metrics.count(Stage.INGRESS, Outcome.ACCEPTED)


def admit(
    hub: Hub, decoded: Decoded, case: CaseLifecycle | None, position: str
) -> Rejection | None:
    """Authorize the sender and check the case's lifecycle; record the event if admitted.

    The event's inbound position is stored in the same table write as the new lifecycle, so a
    crash can never leave one without the other (a redelivery is then told from a duplicate).
    """
    record = decoded.record
    envelope = record["envelope"]
    event_type, case_id = envelope["event_type"], envelope["case_id"]
    try:
        authority = (
            case.authority if case else hub.authority_map.authority_on(envelope["event_time"])
        )
    except AuthorityMapError as exc:
        return Rejection(Reason.ILLEGAL_TRANSITION, str(exc))
    sender = hub.institution(envelope["source"])
    rejection = authorize(hub.catalog, sender, event_type, record, case, authority)
    rejection = rejection or check_transition(case, event_type, record)
    if rejection is not None:
        return rejection
    case = advance(case, event_type, record) if case else start(record, authority)
    update_clocks(case, hub.deadline_rules, hub.calendar, event_type, record)
    case.accepted[envelope["event_id"]] = position
    hub.lifecycles[case_id] = case.to_json()
    return None


async def refuse(
    hub: Hub, rejection: Rejection, message: faust.types.Message, envelope: dict[str, Any] | None
) -> None:
    """Dead-letter the record and answer its sender with a rejection receipt."""
    await dead_letter(hub, Stage.INGRESS, rejection.reason, rejection.detail, message)
    sender = institution_of_inbound(message.topic)
    if sender is not None:
        receipt = rejection_receipt(rejection, coordinates(message), envelope)
        key = message.key if isinstance(message.key, bytes) else None
        await send_receipt(hub, sender, key, receipt)


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


async def forward(hub: Hub, decoded: Decoded, message: faust.types.Message, position: str) -> None:
    """Stamp the ingest time and send the canonical bytes to ``kawal.case.events``."""
    record: dict[str, Any] = dict(decoded.record)
    envelope = dict(record["envelope"])
    # The broker's timestamp of the inbound record: the same on every redelivery, so the
    # canonical bytes, and with them the hash chain, never depend on when we processed it.
    envelope["ingest_time"] = datetime.fromtimestamp(message.timestamp, UTC)
    record["envelope"] = envelope
    canonical = hub.codec.encode_canonical(decoded.full_name, record, checked=False)
    headers = [*cloud_event_headers(envelope), (SOURCE_HEADER, position.encode())]
    await hub.case_events.send(key=message.key, value=canonical, headers=headers)
