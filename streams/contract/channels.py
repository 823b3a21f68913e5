"""The event contract's shared facts: its topics, what travels on each, who writes and reads.

Two generated files describe the same contract, ``schemas/asyncapi.yaml`` for machines
(:mod:`streams.contract.asyncapi`) and ``docs/events.md`` for people
(:mod:`streams.contract.eventdocs`). What both
state lives here once: the public topics as channels, the messages routed to each, the roles
that emit and consume a message and how each role reads, the command that regenerates both, and
the two naming helpers both builders use.

Example:
    >>> from schemas.catalog import default_catalog
    >>> channel_messages(default_catalog())["dlq"]
    ('kawal.DeadLetter',)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from schemas.catalog import (
    CONSUMED_BY_ATTRIBUTE,
    EMITTED_BY_ATTRIBUTE,
    EVENTS_NAMESPACE,
    SchemaCatalog,
)
from schemas.errors import KawalError
from streams.domain.institutions import Institution
from streams.topics import (
    CASE_AUDIT,
    CASE_EVENTS,
    DLQ,
    HEADS,
    INBOUND_PREFIX,
    OUTBOUND_PREFIX,
    SHARED_INBOUND,
)

ASYNCAPI_VERSION = "3.0.0"
INSTITUTION_PARAMETER = "institution"
HUB_ROLE = "hub"
REGENERATE_COMMAND = ".venv/bin/python -m streams.contract.asyncapi"

#: How each role reads in descriptions; a role missing here reads as its id with spaces.
ROLE_LABELS = {
    "election_supervisor": "election supervisor (Bawaslu)",
    "recommending_authority": "recommending authority (KASN, BKN after the transfer)",
    "personnel_agency": "personnel agency (BKN)",
    "ppk": "PPK (head of the employing agency or region)",
    "regional_inspectorate": "regional inspectorate",
    "appeals_body": "appeals body (the PPK's superior or BPASN)",
    "civil_servant": "the civil servant concerned",
    "ministry": "ministries (KemenPAN-RB, Kemendagri)",
    HUB_ROLE: "the hub itself",
}

_NAMED_KINDS = frozenset({"record", "enum", "fixed"})


class AsyncApiError(KawalError):
    """The AsyncAPI document or the event docs cannot be generated from the catalogue."""


@dataclass(frozen=True)
class ChannelSpec:
    """One public topic (or topic pattern) and what the hub does on it."""

    id: str
    address: str
    title: str
    writer: str
    reader: str
    action: str  # the hub's operation: "receive" or "send"
    operation_id: str
    summary: str


CHANNELS = (
    ChannelSpec(
        id="inbound",
        address=INBOUND_PREFIX + "{" + INSTITUTION_PARAMETER + "}",
        title="Inbound events of one institution",
        writer="the institution (its connector, or any Kafka client with the shared schemas)",
        reader="hub ingress: decodes, authenticates, authorizes, dedupes, checks the transition",
        action="receive",
        operation_id="receiveInboundEvents",
        summary="Accept the case events an institution publishes.",
    ),
    ChannelSpec(
        id="sharedInbound",
        address=SHARED_INBOUND,
        title="Inbound events of the institutions of the shared lane",
        writer='institutions registered with inbound = "shared" (regency offices, PPKs, '
        "inspectorates): one topic for the many that publish little",
        reader="hub ingress, as on an institution's own topic; the event's signature, not the "
        "topic, names its sender",
        action="receive",
        operation_id="receiveSharedInboundEvents",
        summary="Accept the case events the institutions of the shared lane publish.",
    ),
    ChannelSpec(
        id="caseEvents",
        address=CASE_EVENTS,
        title="Accepted case events",
        writer="hub pipeline (accepted events, the hub's own included: its timers' and "
        "`kawal erase`'s), in their committed form: personal data replaced by salted "
        "commitments, the bytes the chain hashes",
        reader="systems that follow accepted events without the trail (analytics, archives); "
        "the hub does not read it back",
        action="send",
        operation_id="sendCaseEvents",
        summary="Publish every accepted case event, in order per case.",
    ),
    ChannelSpec(
        id="caseAudit",
        address=CASE_AUDIT,
        title="Canonical hash-chained trail",
        writer="hub pipeline: ledger step (append-only)",
        reader="the audit sink (SQL audit store), `kawal replay`, entitled readers",
        action="send",
        operation_id="sendAuditEntries",
        summary="Append each accepted event to its case's hash-chained trail.",
    ),
    ChannelSpec(
        id="outbound",
        address=OUTBOUND_PREFIX + "{" + INSTITUTION_PARAMETER + "}",
        title="Outbound feed of one institution",
        writer="hub pipeline: router step (the events the institution is party to, redacted "
        "per policy) and receipts for what the institution published",
        reader="the institution (its connector, or any Kafka client with the shared schemas)",
        action="send",
        operation_id="sendOutboundEvents",
        summary="Deliver each institution its feed, with personal data redacted per policy.",
    ),
    ChannelSpec(
        id="dlq",
        address=DLQ,
        title="Rejected records",
        writer="any hub stage that rejects a record (ingress, sink), and the institutions' "
        "connectors for records of their systems or feeds they cannot handle (stage "
        "`connector`; write only, so a letter's stage and source are the writer's claim)",
        reader="operators (`kawal dlq list`, `kawal dlq replay`)",
        action="send",
        operation_id="sendDeadLetters",
        summary="Dead-letter every rejected record with its reason and source coordinates.",
    ),
    ChannelSpec(
        id="heads",
        address=HEADS,
        title="Signed tree heads",
        writer="the audit sink, after stored entries grew the hub's Merkle log (at most one "
        "head per KAWAL_TREE_HEAD_SECONDS)",
        reader="every institution (its connector keeps the heads it checked), auditors "
        "(`kawal audit verify --heads`)",
        action="send",
        operation_id="sendTreeHeads",
        summary="Publish each signed tree head with its consistency proof from the one before.",
    ),
)

#: Messages other than case events, and the one channel each travels on.
RECORD_CHANNELS: dict[str, tuple[str, ...]] = {
    # Outbound feeds carry trail entries (with the disclosures the receiver is entitled to).
    "kawal.AuditEntry": ("caseAudit", "outbound"),
    "kawal.DeadLetter": ("dlq",),
    "kawal.Receipt": ("outbound",),
    # What institutions publish: every event travels inside one, signed (docs/signing.md).
    "kawal.SignedEvent": ("inbound", "sharedInbound"),
    "kawal.TreeHead": ("heads",),
}


def channel_messages(catalog: SchemaCatalog) -> dict[str, tuple[str, ...]]:
    """Full names of the messages each channel carries, keyed by channel id.

    Raises:
        AsyncApiError: a message that is neither a case event nor in :data:`RECORD_CHANNELS`.
    """
    events = tuple(catalog.full_name(event) for event in catalog.event_types())
    # The hub's own events (DeadlineBreached, PersonalDataErased) come in on kawal.inbound.kawal
    # like any other, so one ingress sees every event of a case; authorization keeps them to
    # the hub.
    routing: dict[str, list[str]] = {"inbound": list(events), "sharedInbound": list(events)}
    routing.update(caseEvents=list(events), outbound=[], caseAudit=[], dlq=[], heads=[])
    for name in catalog.names():
        if name.startswith(EVENTS_NAMESPACE + "."):
            continue
        if name not in RECORD_CHANNELS:
            raise AsyncApiError(
                f"message {name} travels on no channel; add it to RECORD_CHANNELS in "
                "streams/contract/channels.py"
            )
        for channel in RECORD_CHANNELS[name]:
            routing[channel].append(name)
    return {channel: tuple(sorted(names)) for channel, names in routing.items()}


def parties(
    catalog: SchemaCatalog, name: str, institutions: Sequence[Institution]
) -> tuple[str, str]:
    """Who emits and who consumes a message, for people.

    Declared roles (``kawal.emitted_by`` / ``kawal.consumed_by``) come first; the hub's own
    records (:data:`RECORD_CHANNELS`) need none, since their channel says who writes and reads.

    Raises:
        AsyncApiError: a case event does not declare its roles.
    """
    full_name = catalog.full_name(name)
    emitters, consumers = catalog.emitted_by(full_name), catalog.consumed_by(full_name)
    if full_name in RECORD_CHANNELS and not (emitters or consumers):
        specs = [_channel_spec(channel) for channel in RECORD_CHANNELS[full_name]]
        return "; ".join(s.writer for s in specs), "; ".join(s.reader for s in specs)
    for roles, attribute in ((emitters, EMITTED_BY_ATTRIBUTE), (consumers, CONSUMED_BY_ATTRIBUTE)):
        if not roles:
            # A public contract that cannot say who sends or gets an event is incomplete.
            raise AsyncApiError(
                f"{full_name} declares no {attribute}; list its roles (DOMAIN.md lifecycle "
                f"table) in schemas/avro/{full_name}.avsc"
            )
    return _roles_text(emitters, institutions), _roles_text(consumers, institutions)


def _roles_text(roles: Sequence[str], institutions: Sequence[Institution]) -> str:
    return "; ".join(role_label(role, institutions) for role in roles)


def role_label(role: str, institutions: Sequence[Institution]) -> str:
    """A role for people, with the registered institution ids that hold it."""
    label = ROLE_LABELS.get(role, role.replace("_", " "))
    ids = [inst.id for inst in institutions if inst.role == role]
    return f"{label}: {', '.join(ids)}" if ids else label


def _channel_spec(channel_id: str) -> ChannelSpec:
    return next(spec for spec in CHANNELS if spec.id == channel_id)


def is_named_type(schema: dict[str, Any]) -> bool:
    """Whether a schema dict defines a named type (a field's dict has a schema as its type)."""
    kind = schema.get("type")
    return isinstance(kind, str) and kind in _NAMED_KINDS and "name" in schema


def short_name(full_name: str) -> str:
    """The last part of a full name: ``ReportReceived`` for ``kawal.events.ReportReceived``."""
    return full_name.rsplit(".", 1)[-1]
