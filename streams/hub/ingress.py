"""Ingress: is an inbound record an event its sender may send to the case now?

For each record an institution publishes on ``kawal.inbound.<inst>``: decode it, open the
signed event inside (:mod:`streams.domain.signed_events`), check that it is a case event sent by
the institution that owns the topic and keyed by its case, authenticate it (the source's key,
valid at the event's time, signed exactly these bytes), check that it is not dated after it
reached the broker (beyond the clocks' drift), open its disclosures with the hub's key
(they must open the commitments),
tell a duplicate of an event already accepted from a redelivery, authorize the sender
(:mod:`streams.domain.authorization`), check the case's lifecycle
(:mod:`streams.domain.lifecycle`) and the region, employing agency and election a report names
(:mod:`streams.domain.parties`). Nothing is believed of an event before it is authenticated.
:func:`examine` decides and changes nothing; the pipeline (:mod:`streams.hub.pipeline`) applies an
admission and answers a refusal.

Idempotence: the accepted-event index (:mod:`streams.hub.case_table`) remembers where each
event of a case was accepted (topic:partition:offset). The same record delivered again after a
crash is admitted again unchanged (the ledger gives it its entry again); the same event
published again is a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import faust

from schemas.catalog import SchemaCatalog
from schemas.codec import SINGLE_OBJECT_MAGIC, AvroCodec, CodecError, Decoded
from schemas.envelope import UNUSED_IN_SIGNED_EVENTS
from streams.broker.partitioner import partition_of
from streams.domain.authority import AuthorityMap, AuthorityMapError
from streams.domain.authorization import authorize
from streams.domain.calendar import WorkingCalendar
from streams.domain.case_state import acting_authority, next_state
from streams.domain.clear_fields import actor_ref_refusal
from streams.domain.deadlines import DeadlineRule, provisional_clocks
from streams.domain.institutions import InboundLane, Institution
from streams.domain.keys import KeyRegistry
from streams.domain.ledger import AcceptedEvent
from streams.domain.lifecycle import CaseLifecycle, check_transition
from streams.domain.parties import check_report
from streams.domain.reasons import Reason, Rejection
from streams.domain.sealing import DecryptionKeys, Disclosures
from streams.domain.signed_events import (
    EVENT_NAMESPACE,
    SIGNED_EVENT,
    SignedEvent,
    authenticate,
    open_signed,
    sealed_to_revoked_key,
    unseal,
)
from streams.hub.event_times import check_chronology, check_time, recorded_at
from streams.hub.misplaced import Misplacement, signed_misplacement
from streams.hub.record_keys import key_mismatch_reason
from streams.hub.rejections import reason_for_codec_error
from streams.topics import SHARED_INBOUND, inbound_topic, institution_of_inbound

#: Largest inbound record taken, in bytes. Case events are metadata of a few kilobytes; the
#: entry, feeds and DLQ record built from one must stay well inside a producer batch.
MAX_EVENT_BYTES = 128 * 1024


@dataclass(frozen=True)
class CaseRules:
    """What ingress checks an event against: senders, authority, schemas and deadlines."""

    catalog: SchemaCatalog
    #: The registered institutions by id; ingress only sees registered ones.
    institutions: Mapping[str, Institution]
    authority_map: AuthorityMap
    deadline_rules: dict[str, DeadlineRule]
    calendar: WorkingCalendar
    #: The public keys events are authenticated with.
    keys: KeyRegistry
    #: The hub's private encryption keys, which open the disclosures sealed to it.
    hub_keys: DecryptionKeys
    #: Partitions of the inbound topics (``KAWAL_PARTITIONS``): a case's records go to one.
    partitions: int


class KnownCases(Protocol):
    """What ingress looks up of the cases (:class:`streams.hub.case_table.CaseBatch`)."""

    def lifecycle(self, case_id: str) -> CaseLifecycle | None:
        """The case's lifecycle; None for a case not yet reported."""
        ...

    def accepted(self, case_id: str, event_id: str) -> AcceptedEvent | None:
        """Where the case accepted and chained ``event_id``, if it did."""
        ...


@dataclass(frozen=True)
class Admission:
    """An event the case takes: the signed event, authenticated, and the lifecycle after it."""

    signed: SignedEvent
    lifecycle: CaseLifecycle
    #: Inbound coordinates the event was accepted from.
    source: tuple[str, int, int]
    #: Where this record was accepted and chained before (a redelivery), or None.
    earlier: AcceptedEvent | None = None
    #: Clocks the event started on a provisional calendar (a year without holiday data).
    provisional: tuple[dict[str, Any], ...] = ()

    @property
    def redelivered(self) -> bool:
        """The same record was admitted before; nothing about the case changes."""
        return self.earlier is not None

    @property
    def decoded(self) -> Decoded:
        """The committed event, decoded."""
        return self.signed.decoded


@dataclass(frozen=True)
class Refusal:
    """A record the hub refuses, with the envelope when it could be read."""

    rejection: Rejection
    envelope: dict[str, Any] | None
    #: The sender was authenticated: its rejection receipt may show the case's head.
    authenticated: bool = False
    #: A signed event on a topic not its signer's: who signed and who placed it.
    misplaced: Misplacement | None = None


def examine(
    codec: AvroCodec,
    rules: CaseRules,
    message: faust.types.Message,
    cases: KnownCases,
) -> Admission | Refusal:
    """Decide on one inbound record, looking up its case and its event in ``cases``.

    The lifecycle is never changed: an admission carries the lifecycle after the event.
    """
    value = message.value or b""
    if len(value) > MAX_EVENT_BYTES:
        detail = (
            f"the record has {len(value)} bytes, more than the {MAX_EVENT_BYTES} an event may "
            "have; keep documents in the institution's system and refer to them"
        )
        return Refusal(Rejection(Reason.TOO_LARGE, detail), None)
    try:
        # A tombstone (no value) is as undecodable as garbage: the codec says it is truncated.
        wrapper = codec.decode(value)
    except CodecError as exc:
        return Refusal(Rejection(reason_for_codec_error(exc), str(exc)), None)
    signed = open_signed(codec, wrapper)
    if isinstance(signed, Rejection):
        # An event refused before it was opened still names itself when its bytes can be
        # read, so its receipt can say which one it was (kawal.Receipt.event_id).
        return Refusal(signed, _named_envelope(codec, wrapper))
    decoded = signed.decoded
    rejection = (
        check(decoded, message)
        or check_partition(message, rules.partitions)
        or check_lane(rules.institutions, decoded.record["envelope"]["source"], message.topic)
        or authenticate(rules.keys, signed, recorded_at(message))
    )
    if rejection is not None:
        return _unauthenticated(rules, signed, message, rejection)
    # Authenticated from here on: a refusal's receipt shows the case's head (docs/signing.md,
    # "Receipts"), and on the shared topic it reaches the event's source.
    rejection = (
        check_time(decoded.record["envelope"], message)
        or check_actor(decoded.record["envelope"])
        or sealed_to_revoked_key(rules.keys, signed, recorded_at(message))
    )
    if rejection is not None:
        return Refusal(rejection, decoded.record.get("envelope"), authenticated=True)
    opened = unseal(rules.catalog, signed, rules.hub_keys)
    if isinstance(opened, Rejection):
        return Refusal(opened, decoded.record.get("envelope"), authenticated=True)
    signed = opened
    envelope = decoded.record["envelope"]
    case = cases.lifecycle(envelope["case_id"])
    source = (message.topic, message.partition, message.offset)
    earlier = cases.accepted(envelope["case_id"], envelope["event_id"]) if case else None
    if case is not None and earlier is not None and earlier.position == position_of(source):
        return Admission(signed, case, source, earlier=earlier)
    if earlier is not None:
        # A connector re-reading its system after a crash sends an event again, committed
        # under fresh salts: the hub cannot tell it from another event reusing the id.
        detail = (
            f"event_id already accepted at {earlier.position}, which stands: harmless if this "
            "is the same event sent again; another event needs an event_id of its own"
        )
        return Refusal(Rejection(Reason.DUPLICATE, detail), envelope, authenticated=True)
    disclosed = disclosed_values(signed.disclosures)
    admitted = admit(rules, decoded, case, disclosed, recorded_at(message))
    if isinstance(admitted, Rejection):
        return Refusal(admitted, envelope, authenticated=True)
    provisional = tuple(provisional_clocks(admitted, envelope["event_id"]))
    return Admission(signed, admitted, source, provisional=provisional)


def _unauthenticated(
    rules: CaseRules, signed: SignedEvent, message: faust.types.Message, rejection: Rejection
) -> Refusal:
    """The refusal of ``signed`` before it was authenticated: ``rejection``, the first found.

    An event on a topic not its source's is authenticated still, so that its receipt reaches
    its signer (:mod:`streams.hub.misplaced`).
    """
    envelope = signed.decoded.record.get("envelope")
    if rejection.reason is Reason.SOURCE_MISMATCH:
        found = signed_misplacement(
            rules.keys, rules.institutions, signed, message.topic, recorded_at(message)
        )
        if found is not None:
            return Refusal(found.to_signer, envelope, authenticated=True, misplaced=found)
    return Refusal(rejection, envelope)


def _named_envelope(codec: AvroCodec, wrapper: Decoded) -> dict[str, Any] | None:
    """The envelope of the case event a record refused before it was opened carries, if any.

    An unsigned event is the record itself; a ``kawal.SignedEvent`` refused for its format or
    its disclosures in clear holds one in ``event``. None when there is no event to read.
    """
    if wrapper.full_name.startswith(EVENT_NAMESPACE):
        envelope: dict[str, Any] | None = wrapper.record.get("envelope")
        return envelope
    inner = wrapper.record.get("event") if wrapper.full_name == SIGNED_EVENT else None
    if not isinstance(inner, bytes) or not inner.startswith(SINGLE_OBJECT_MAGIC):
        return None
    try:
        decoded = codec.decode(inner)
    except CodecError:
        return None
    if not decoded.full_name.startswith(EVENT_NAMESPACE):
        return None
    envelope = decoded.record.get("envelope")
    return envelope


def admit(
    rules: CaseRules,
    decoded: Decoded,
    case: CaseLifecycle | None,
    disclosed: dict[str, str],
    received_at: datetime | None = None,
) -> CaseLifecycle | Rejection:
    """Authorize the sender and check the lifecycle: the lifecycle after the event, or why not.

    ``disclosed`` holds the personal data the sender disclosed to the hub, field to value;
    ``received_at`` is when the hub recorded the event, where the clocks it starts for other
    parties than its sender begin at the earliest (None: when the event says it happened).

    Where the event was accepted is kept by the pipeline, with its entry, in the accepted-event
    index.
    """
    record = decoded.record
    envelope = record["envelope"]
    event_type = envelope["event_type"]
    try:
        authority = acting_authority(rules.authority_map, case, envelope["event_time"])
    except AuthorityMapError as exc:
        return Rejection(Reason.ILLEGAL_TRANSITION, str(exc))
    sender = rules.institutions[envelope["source"]]
    rejection = authorize(rules.catalog, sender, event_type, record, case, authority)
    rejection = rejection or check_transition(case, event_type, record)
    rejection = rejection or check_chronology(case, envelope)
    if rejection is None and event_type == "ReportReceived":
        rejection = check_report(rules.institutions, record, disclosed)
    if rejection is not None:
        return rejection
    return next_state(
        case,
        record,
        authority,
        rules.deadline_rules,
        rules.calendar,
        received_at,
        registered=rules.institutions,
    )


def disclosed_values(disclosures: Disclosures) -> dict[str, str]:
    """Field to value of disclosures the hub opened (the salts are not needed to check them)."""
    return {disclosure["field"]: disclosure["value"] for disclosure in disclosures}


def sender_of(message: faust.types.Message, refusal: Refusal) -> str | None:
    """Whom a refusal's receipt goes to, if anyone: the sender, as far as the hub knows it.

    An authenticated event's signer, wherever it published. Before that, the owner of the
    inbound topic (the only writer its broker ACL lets in) for a record naming no other
    source; a record naming another source was not sent by the owner, and nothing proves who
    sent it, so only ``kawal.dlq`` keeps it (:mod:`streams.hub.misplaced`). On the shared
    topic, anyone can name a source: nobody.
    """
    if refusal.authenticated and refusal.envelope is not None:
        return str(refusal.envelope["source"])
    owner = institution_of_inbound(message.topic)
    claimed = refusal.envelope.get("source") if refusal.envelope is not None else None
    if claimed is not None and claimed != owner:
        return None
    return owner


def position_of(source: tuple[str, int, int]) -> str:
    """``topic:partition:offset`` of inbound coordinates, as the accepted-event index keeps them."""
    topic, partition, offset = source
    return f"{topic}:{partition}:{offset}"


def check_lane(
    institutions: Mapping[str, Institution], source: str, topic: str
) -> Rejection | None:
    """Whether ``source`` may publish on ``topic``: its own topic, or the shared one if its lane.

    An institution with its own topic publishes there alone, where the broker lets only it
    write; on the shared topic its signature (checked next) is what names it.
    """
    if topic != SHARED_INBOUND:
        return None
    institution = institutions.get(source)
    if institution is None:
        return Rejection(
            Reason.SOURCE_MISMATCH,
            f"envelope.source {source} is no registered institution; register it first",
        )
    if institution.inbound is not InboundLane.SHARED:
        return Rejection(
            Reason.SOURCE_MISMATCH,
            f"{source} publishes on its own topic {inbound_topic(source)}, not on {SHARED_INBOUND}",
        )
    return None


def check(decoded: Decoded, message: faust.types.Message) -> Rejection | None:
    """Structural checks of a decoded inbound record; None when it may go on."""
    if not decoded.full_name.startswith(EVENT_NAMESPACE):
        return Rejection(
            Reason.NOT_AN_EVENT,
            f"{decoded.full_name} is not a case event; publish kawal.events.* records only",
        )
    envelope = decoded.record["envelope"]
    sender = institution_of_inbound(message.topic)
    if sender is not None and envelope["source"] != sender:
        return Rejection(
            Reason.SOURCE_MISMATCH,
            f"envelope.source is not {sender}, whose inbound topic this is: an institution "
            f"sends its own events only, on its own topic. If you are {sender}, set "
            f"envelope.source to {sender} and sign the event again; else publish on "
            "kawal.inbound.<your institution id> (kawal.inbound for an institution registered "
            'with inbound = "shared"; docs/signing.md, Publishing an event)',
        )
    if envelope["event_type"] != decoded.full_name.removeprefix(EVENT_NAMESPACE):
        return Rejection(
            Reason.SCHEMA_MISMATCH,
            f"envelope.event_type does not name the record type {decoded.full_name}",
        )
    unused = [field for field in UNUSED_IN_SIGNED_EVENTS if envelope.get(field) is not None]
    if unused:
        return Rejection(
            Reason.SCHEMA_MISMATCH,
            f"envelope.{unused[0]} must be null: {UNUSED_IN_SIGNED_EVENTS[unused[0]]}; leave "
            "it null and sign the event again",
        )
    if message.key != envelope["case_id"].encode():
        return Rejection(Reason.KEY_MISMATCH, key_mismatch_reason(message.key, envelope["case_id"]))
    return None


def check_actor(envelope: Mapping[str, Any]) -> Rejection | None:
    """None when ``envelope.actor_ref`` is a pseudonym, checked once its sender is known."""
    return actor_ref_refusal(envelope["actor_ref"])


def check_partition(message: faust.types.Message, partitions: int) -> Rejection | None:
    """None when the record is on its case's partition, as Kafka's default partitioner puts it.

    A case's state lives with the partition its records come on; a record on another one
    would be taken by another worker, which does not hold the case. librdkafka's clients
    hash keys otherwise by default.
    """
    expected = partition_of(message.key or b"", partitions)
    if message.partition == expected:
        return None
    return Rejection(
        Reason.WRONG_PARTITION,
        f"the record came on partition {message.partition}, but its case's records belong on "
        f"partition {expected} of {partitions}, where Kafka's default partitioner (murmur2 of "
        "the key) puts them; publish without choosing a partition, with that partitioner "
        "(librdkafka: partitioner=murmur2_random)",
    )
