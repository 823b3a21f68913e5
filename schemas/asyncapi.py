"""The AsyncAPI 3.0 document and the event reference page, generated from topics and schemas.

One source, two outputs, both committed so that readers need no tooling:

- ``schemas/asyncapi.yaml``: an AsyncAPI 3.0.0 document. Channels are the hub's public topics,
  messages are the catalogue's messages with their Avro schemas as payload, operations are the
  hub's own view (it receives on inbound topics and sends on every other one).
- ``docs/events.md``: the same facts for people, with personal-data fields flagged.

Run ``python -m schemas.asyncapi`` to regenerate both, ``python -m schemas.asyncapi --check`` to
fail (exit 1) when a committed file is stale. Output is deterministic: maps are written in a fixed
order (sorted where order carries no meaning), and only the package version, the schemas, the
topic layout and the bundled institutions registry go in, never the environment.

Example:
    >>> document = build_document(default_catalog(), load_institutions(), "0.1.0")
    >>> document["asyncapi"], "ReportReceived" in document["components"]["messages"]
    ('3.0.0', True)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from schemas.catalog import (
    CONSUMED_BY_ATTRIBUTE,
    EMITTED_BY_ATTRIBUTE,
    EVENTS_NAMESPACE,
    PERSONAL_DATA_ATTRIBUTE,
    FieldInfo,
    SchemaCatalog,
    default_catalog,
)
from schemas.errors import KawalError
from streams.headers import CE_SPEC_VERSION, CE_TYPE_PREFIX, SOURCE_HEADER
from streams.institutions import Institution, load_institutions
from streams.settings import Settings
from streams.topics import CASE_AUDIT, CASE_EVENTS, DLQ, INBOUND_PREFIX, OUTBOUND_PREFIX

ASYNCAPI_VERSION = "3.0.0"
AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
AVRO_CONTENT_TYPE = "application/vnd.apache.avro"
KAFKA_BINDING_VERSION = "0.5.0"
INSTITUTION_PARAMETER = "institution"
HUB_ROLE = "hub"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
YAML_PATH = Path("schemas/asyncapi.yaml")
DOCS_PATH = Path("docs/events.md")
REGENERATE_COMMAND = ".venv/bin/python -m schemas.asyncapi"

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
# Avro keys first in reading order, so a schema reads name, type, doc, then its body.
_AVRO_KEY_ORDER = ("name", "namespace", "type", "logicalType", "doc", "default", "symbols", "size")
_AVRO_BODY_KEYS = ("items", "values", "fields")

Json = dict[str, Any]


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
        id="caseEvents",
        address=CASE_EVENTS,
        title="Accepted case events",
        writer="hub ingress (accepted events) and the hub's deadline timer (DeadlineBreached)",
        reader="hub ledger: sequence number, hash chain, case state, deadlines",
        action="send",
        operation_id="sendCaseEvents",
        summary="Publish every accepted case event, in order per case.",
    ),
    ChannelSpec(
        id="caseAudit",
        address=CASE_AUDIT,
        title="Canonical hash-chained trail",
        writer="hub ledger (append-only)",
        reader="hub router, the audit sink (SQL audit store), entitled readers",
        action="send",
        operation_id="sendAuditEntries",
        summary="Append each accepted event to its case's hash-chained trail.",
    ),
    ChannelSpec(
        id="outbound",
        address=OUTBOUND_PREFIX + "{" + INSTITUTION_PARAMETER + "}",
        title="Outbound feed of one institution",
        writer="hub router: the events the institution is party to, redacted per policy",
        reader="the institution (its connector, or any Kafka client with the shared schemas)",
        action="send",
        operation_id="sendOutboundEvents",
        summary="Deliver each institution its feed, with personal data redacted per policy.",
    ),
    ChannelSpec(
        id="dlq",
        address=DLQ,
        title="Rejected records",
        writer="any hub stage that rejects a record (ingress, ledger, sink)",
        reader="operators (`kawal dlq list`, `kawal dlq replay`)",
        action="send",
        operation_id="sendDeadLetters",
        summary="Dead-letter every rejected record with its reason and source coordinates.",
    ),
)

#: Messages other than case events, and the one channel each travels on.
RECORD_CHANNELS = {"kawal.AuditEntry": "caseAudit", "kawal.DeadLetter": "dlq"}


def build_document(
    catalog: SchemaCatalog, institutions: Sequence[Institution], version: str
) -> Json:
    """Returns the AsyncAPI 3.0.0 document as plain data, ready for YAML or JSON.

    Args:
        catalog: the schemas; every message becomes an AsyncAPI message.
        institutions: the registry; its ids document the ``institution`` parameter.
        version: the package version, the document's ``info.version``.

    Raises:
        AsyncApiError: a message has no channel, or an event does not declare its roles.
    """
    routing = channel_messages(catalog)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": "Kawal", "version": version, "description": _INFO_DESCRIPTION},
        "defaultContentType": AVRO_CONTENT_TYPE,
        "servers": _servers(),
        "channels": {spec.id: _channel(spec, routing[spec.id]) for spec in CHANNELS},
        "operations": {spec.operation_id: _operation(spec, routing[spec.id]) for spec in CHANNELS},
        "components": {
            "parameters": {INSTITUTION_PARAMETER: _institution_parameter(institutions)},
            "messages": {
                message_id(catalog, name): _message(catalog, name, institutions)
                for name in sorted(catalog.names(), key=lambda n: message_id(catalog, n))
            },
        },
    }


def channel_messages(catalog: SchemaCatalog) -> dict[str, tuple[str, ...]]:
    """Full names of the messages each channel carries, keyed by channel id.

    Raises:
        AsyncApiError: a message that is neither a case event nor in :data:`RECORD_CHANNELS`.
    """
    events = tuple(catalog.full_name(event) for event in catalog.event_types())
    # Only the hub emits some events (DeadlineBreached); no institution may send them inbound.
    from_institutions = tuple(e for e in events if catalog.emitted_by(e) != (HUB_ROLE,))
    routing: dict[str, list[str]] = {"inbound": list(from_institutions)}
    routing.update(caseEvents=list(events), outbound=list(events), caseAudit=[], dlq=[])
    for name in catalog.names():
        if name.startswith(EVENTS_NAMESPACE + "."):
            continue
        if name not in RECORD_CHANNELS:
            raise AsyncApiError(
                f"message {name} travels on no channel; add it to RECORD_CHANNELS in "
                "schemas/asyncapi.py"
            )
        routing[RECORD_CHANNELS[name]].append(name)
    return {channel: tuple(sorted(names)) for channel, names in routing.items()}


def message_id(catalog: SchemaCatalog, name: str) -> str:
    """The AsyncAPI message id of a message: an event's short name, else the record's name."""
    return catalog.full_name(name).rsplit(".", 1)[-1]


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
        spec = _channel_spec(RECORD_CHANNELS[full_name])
        return spec.writer, spec.reader
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


# -- the AsyncAPI document ---------------------------------------------------------------------

_INFO_DESCRIPTION = """\
Kawal is the event hub that carries civil-servant (ASN) neutrality cases between Bawaslu, the \
recommending authority, BKN, PPKs, inspectorates and appeals bodies, so that every institution \
sees one consistent, verifiable history of each case.

Wire format: every value is Avro. With a schema registry configured, the Confluent wire format \
(magic byte 0, 4-byte schema id); otherwise Avro single-object encoding (0xC3 0x01, then the \
8-byte CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form), resolved against the \
shared schemas in `schemas/avro/`. Readers accept both. Every record is keyed by its `case_id`, \
so one case is always in order. Case events carry CloudEvents attributes in Kafka headers \
(binary mode, UTF-8 values) and W3C `traceparent`.

Fields marked `kawal.personal_data` in a payload schema hold personal data (Law 27/2022): the \
hub redacts them from the outbound feed of every institution not entitled to them, keeping a \
salted hash so that every institution can verify the same hash chain.
"""


def _servers() -> Json:
    port = Settings.model_fields["embedded_broker_port"].default
    return {
        "local": {
            "host": "127.0.0.1:{port}",
            "protocol": "kafka",
            "description": (
                "Embedded tansu broker that `kawal up` runs on one machine; tests start one per "
                "session on a free loopback port."
            ),
            "variables": {
                "port": {"default": str(port), "description": "KAWAL_EMBEDDED_BROKER_PORT."}
            },
        },
        "production": {
            "host": "kafka-1:9092",
            "protocol": "kafka",
            "description": (
                "Apache Kafka (KRaft) cluster: 3 brokers (kafka-1, kafka-2, kafka-3 on port "
                "9092), replication 3, min.insync.replicas=2, acks=all. Institutions "
                "authenticate with SASL or mTLS."
            ),
        },
    }


def _channel(spec: ChannelSpec, messages: Sequence[str]) -> Json:
    channel: Json = {
        "address": spec.address,
        "title": spec.title,
        "description": f"Written by {spec.writer}. Read by {spec.reader}.",
        "messages": {
            _short(name): {"$ref": f"#/components/messages/{_short(name)}"} for name in messages
        },
    }
    if "{" + INSTITUTION_PARAMETER + "}" in spec.address:
        ref = f"#/components/parameters/{INSTITUTION_PARAMETER}"
        channel["parameters"] = {INSTITUTION_PARAMETER: {"$ref": ref}}
    return channel


def _operation(spec: ChannelSpec, messages: Sequence[str]) -> Json:
    return {
        "action": spec.action,
        "channel": {"$ref": f"#/channels/{spec.id}"},
        "summary": spec.summary,
        "messages": [
            {"$ref": f"#/channels/{spec.id}/messages/{_short(name)}"} for name in messages
        ],
    }


def _institution_parameter(institutions: Sequence[Institution]) -> Json:
    listed = "; ".join(f"{inst.id} ({inst.role})" for inst in institutions)
    return {
        "description": (
            "Id of a registered institution (streams/data/institutions.toml, or the file in "
            f"KAWAL_INSTITUTIONS_FILE). Registered in the bundled registry: {listed}."
        ),
        # Examples, not an enum: a deployment may register more institutions as data.
        "examples": [inst.id for inst in institutions],
    }


def _message(catalog: SchemaCatalog, name: str, institutions: Sequence[Institution]) -> Json:
    full_name = catalog.full_name(name)
    is_event = full_name.startswith(EVENTS_NAMESPACE + ".")
    message: Json = {
        "name": _short(full_name),
        "title": _title(_short(full_name)),
        "summary": _first_sentence(catalog.record_doc(full_name)),
        "description": _message_description(catalog, full_name, institutions),
        "contentType": AVRO_CONTENT_TYPE,
        "payload": {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": avro_payload(catalog, name)},
        "bindings": {"kafka": _kafka_binding(is_event or full_name in _CASE_KEYED_RECORDS)},
    }
    if is_event:
        message["headers"] = _cloud_event_headers(_short(full_name))
    return message


# The DLQ keeps a rejected record's key as it came, which need not be a case id.
_CASE_KEYED_RECORDS = frozenset({"kawal.AuditEntry"})


def _message_description(
    catalog: SchemaCatalog, full_name: str, institutions: Sequence[Institution]
) -> str:
    emitters, consumers = parties(catalog, full_name, institutions)
    lines = [
        catalog.record_doc(full_name),
        "",
        f"Emitted by: {emitters}.",
        f"Consumed by: {consumers}.",
    ]
    personal = catalog.personal_data_fields(full_name)
    if personal:
        lines.append(
            f"Personal data ({PERSONAL_DATA_ATTRIBUTE}; redacted for institutions not entitled "
            f"to it): {', '.join(personal)}."
        )
    return "\n".join(lines)


def role_label(role: str, institutions: Sequence[Institution]) -> str:
    """A role for people, with the registered institution ids that hold it."""
    label = ROLE_LABELS.get(role, role.replace("_", " "))
    ids = [inst.id for inst in institutions if inst.role == role]
    return f"{label}: {', '.join(ids)}" if ids else label


def _channel_spec(channel_id: str) -> ChannelSpec:
    return next(spec for spec in CHANNELS if spec.id == channel_id)


def _kafka_binding(case_keyed: bool) -> Json:
    if case_keyed:
        key: Json = {
            "type": "string",
            "format": "uuid",
            "description": "case_id (UUIDv5), UTF-8; keeps each case in order on one partition.",
        }
    else:
        key = {
            "type": ["string", "null"],
            "description": "The rejected record's key unchanged: its case_id when it had one.",
        }
    # Both framings (Confluent schema id, single-object fingerprint) sit in the value bytes.
    return {"key": key, "schemaIdLocation": "payload", "bindingVersion": KAFKA_BINDING_VERSION}


def _cloud_event_headers(event_type: str) -> Json:
    return {
        "type": "object",
        "description": "Kafka headers, UTF-8 values: CloudEvents binary mode and trace context.",
        "required": ["ce_id", "ce_source", "ce_specversion", "ce_time", "ce_type"],
        "properties": {
            "ce_id": {"type": "string", "format": "uuid", "description": "envelope.event_id."},
            "ce_source": {
                "type": "string",
                "pattern": "^kawal:.+$",
                "description": "kawal:<emitting institution id>, from envelope.source.",
            },
            "ce_specversion": {"type": "string", "const": CE_SPEC_VERSION},
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "envelope.event_time, ISO 8601 with offset.",
            },
            "ce_type": {"type": "string", "const": CE_TYPE_PREFIX + event_type},
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context, when the producing operation was traced.",
            },
            SOURCE_HEADER: {
                "type": "string",
                "description": (
                    f"Set by the hub on {CASE_EVENTS}: topic:partition:offset of the inbound "
                    "record the event was accepted from."
                ),
            },
        },
    }


# -- Avro payload schemas ----------------------------------------------------------------------


def avro_payload(catalog: SchemaCatalog, name: str) -> Json:
    """A message's Avro schema, self-contained: named types inlined where first used.

    Starts from the catalogue's self-contained JSON, splits each full name into name and
    namespace (the AsyncAPI Avro schema accepts simple names only), orders keys for reading,
    and keeps any repeated definition a reference, since Avro forbids defining a name twice.
    """
    result = _clean_avro(json.loads(catalog.schema_json(name)), set())
    if not isinstance(result, dict):
        raise AsyncApiError(f"{name} is not a record schema")
    return result


def _clean_avro(schema: Any, defined: set[str]) -> Any:
    if isinstance(schema, list):
        return [_clean_avro(branch, defined) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned = dict(schema)
    if _is_named(schema):
        if schema["name"] in defined:
            return schema["name"]
        defined.add(schema["name"])
        # The AsyncAPI Avro schema accepts only simple names, so the namespace goes apart.
        namespace, _, cleaned["name"] = schema["name"].rpartition(".")
        if namespace:
            cleaned["namespace"] = namespace
    ordered = [key for key in _AVRO_KEY_ORDER if key in cleaned]
    ordered += sorted(k for k in cleaned if k not in _AVRO_KEY_ORDER + _AVRO_BODY_KEYS)
    ordered += [key for key in _AVRO_BODY_KEYS if key in cleaned]
    # Definitions are claimed in the order they are written, so a reference follows its type.
    return {key: _clean_avro_value(key, cleaned[key], defined) for key in ordered}


def _is_named(schema: Json) -> bool:
    """Whether a schema dict defines a named type (a field's dict has a schema as its type)."""
    kind = schema.get("type")
    return isinstance(kind, str) and kind in _NAMED_KINDS and "name" in schema


def _clean_avro_value(key: str, value: Any, defined: set[str]) -> Any:
    if key == "fields":
        return [_clean_avro(field, defined) for field in value]
    if key in ("type", "items", "values"):
        return _clean_avro(value, defined)
    return value  # doc, default, symbols, custom attributes: data, never schemas


# -- docs/events.md ----------------------------------------------------------------------------


def build_markdown(catalog: SchemaCatalog, institutions: Sequence[Institution]) -> str:
    """Returns docs/events.md: topics, then every message with its parties and fields."""
    routing = channel_messages(catalog)
    events = [catalog.full_name(event) for event in catalog.event_types()]
    records = sorted(set(catalog.names()) - set(events))
    shared = shared_types(catalog)
    sections = [
        _md_intro(),
        _md_institutions(institutions),
        _md_topics(routing),
        _md_personal_data(),
        "## Events\n",
        *(_md_message(catalog, name, routing, institutions, shared) for name in events),
        "## Hub records\n",
        *(_md_message(catalog, name, routing, institutions, shared) for name in records),
        "## Shared types\n",
        *(_md_named_type(catalog, name, shared) for name in shared),
    ]
    return "\n".join(sections).rstrip("\n") + "\n"


def shared_types(catalog: SchemaCatalog) -> tuple[str, ...]:
    """Full names of the named types messages use (the envelope, enums, ...), sorted."""
    found = {
        named["name"]
        for name in catalog.names()
        for field in catalog.schema(name)["fields"]
        for named in _named_definitions(field["type"])
    }
    return tuple(sorted(found))


def _named_definitions(schema: Any) -> Iterator[Json]:
    if isinstance(schema, list):
        for branch in schema:
            yield from _named_definitions(branch)
    elif isinstance(schema, dict):
        if _is_named(schema):
            yield schema
        for field in schema.get("fields", ()):
            yield from _named_definitions(field["type"])
        for key in ("items", "values"):
            if key in schema:
                yield from _named_definitions(schema[key])


def _md_intro() -> str:
    return f"""\
# Kawal events

<!-- Generated by `{REGENERATE_COMMAND}` from schemas/avro and streams/topics.py.
Do not edit by hand: change the schemas or the generator, then regenerate; `--check` tells when
this page is stale. The machine-readable contract is schemas/asyncapi.yaml
(AsyncAPI {ASYNCAPI_VERSION}). -->

Kawal carries civil-servant (ASN) neutrality cases between institutions as events on Kafka.
This page lists every topic, every event with who emits and who consumes it, and every field.

- **Values** are Avro, written with the schemas in `schemas/avro/`: Avro single-object encoding
  (0xC3 0x01 and the CRC-64-AVRO fingerprint), or the Confluent wire format (magic byte 0 and a
  4-byte schema id) when a schema registry is configured. Readers accept both.
- **Keys** are the `case_id` (a UUIDv5 of the first reporting institution and its own case
  number), so the events of one case are always in order.
- **Headers** of case events carry CloudEvents attributes in binary mode: `ce_id` (the event id),
  `ce_source` (`kawal:<institution id>`), `ce_type` (`{CE_TYPE_PREFIX}<EventType>`),
  `ce_specversion` (`{CE_SPEC_VERSION}`), `ce_time`, and W3C `traceparent` when traced.
"""


def _md_institutions(institutions: Sequence[Institution]) -> str:
    rows = [f"| `{inst.id}` | {inst.role} | {_cell(inst.name)} |" for inst in institutions]
    return "\n".join(
        [
            "## Institutions\n",
            "Registered in the bundled registry (`streams/data/institutions.toml`); each has an",
            "inbound and an outbound topic. A deployment may register more.\n",
            "| id | role | name |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )


def _md_topics(routing: dict[str, tuple[str, ...]]) -> str:
    rows = []
    for spec in CHANNELS:
        links = ", ".join(_md_link(name) for name in routing[spec.id]) or "none yet"
        rows.append(
            f"| `{_md_address(spec)}` | {_cell(spec.writer)} | {_cell(spec.reader)} | {links} |"
        )
    return "\n".join(
        [
            "## Topics\n",
            "| topic | written by | read by | carries |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def _md_personal_data() -> str:
    return """\
## Personal data and redaction

Fields marked **personal data** carry the schema attribute `kawal.personal_data` and fall under
Law 27/2022. The router redacts them from the outbound feed of every institution not entitled to
them; the redacted view keeps a salted hash of each removed field, so every institution can still
verify the same hash chain. The reporter's identity never travels in clear on shared topics.
Personal data never goes into logs, metric labels or DLQ reasons.
"""


def _md_message(
    catalog: SchemaCatalog,
    name: str,
    routing: dict[str, tuple[str, ...]],
    institutions: Sequence[Institution],
    shared: Sequence[str],
) -> str:
    topics = [f"`{_md_address(spec)}`" for spec in CHANNELS if name in routing[spec.id]]
    emitters, consumers = parties(catalog, name, institutions)
    lines = [f"### {_short(name)}\n", catalog.record_doc(name).strip(), ""]
    lines += [f"- **Emitted by:** {emitters}", f"- **Consumed by:** {consumers}"]
    lines.append(f"- **Topics:** {', '.join(topics)}")
    if name.startswith(EVENTS_NAMESPACE + "."):
        lines.append(f"- **CloudEvents type:** `{CE_TYPE_PREFIX}{_short(name)}`")
    lines.append(f"- **Schema:** `schemas/avro/{name}.avsc`")
    personal = catalog.personal_data_fields(name)
    if personal:
        marked = ", ".join(f"`{path}`" for path in personal)
        lines.append(f"- **Personal data (redacted unless entitled):** {marked}")
    return "\n".join([*lines, "", *_md_fields(catalog.fields(name), shared), ""])


def _md_named_type(catalog: SchemaCatalog, name: str, shared: Sequence[str]) -> str:
    schema = catalog.schema(name)
    lines = [f"### {name}\n", catalog.record_doc(name).strip(), ""]
    if schema["type"] == "record":
        lines += _md_fields(catalog.fields(name), shared)
    elif schema["type"] == "enum":
        lines.append("Symbols: " + ", ".join(f"`{symbol}`" for symbol in schema["symbols"]))
        if "default" in schema:
            lines += ["", f"Readers that do not know a symbol read `{schema['default']}`."]
    else:
        lines.append(f"Fixed, {schema['size']} bytes.")
    return "\n".join([*lines, ""])


def _md_fields(fields: Sequence[FieldInfo], shared: Sequence[str]) -> list[str]:
    rows = ["| field | type | description | personal data |", "|---|---|---|---|"]
    for field in fields:
        personal = "**personal data**" if field.personal_data else ""
        default = f" Default: `{_avro_default(field.default)}`." if field.has_default else ""
        doc = _cell(field.doc.strip() + default)
        rows.append(f"| `{field.name}` | {_md_type(field.type, shared)} | {doc} | {personal} |")
    return rows


def _md_type(type_name: str, shared: Sequence[str]) -> str:
    """A field's type (``null | kawal.SanctionLevel``) with each shared type as a link."""
    out: list[str] = []
    pending = ""
    for token in re.split(r"([A-Za-z_][\w.-]*)", type_name):
        if token not in shared:
            pending += token
            continue
        out.append(_md_code(pending))
        out.append(f"[`{token}`](#{_anchor(token)})")
        pending = ""
    out.append(_md_code(pending))
    return "".join(out).strip()


def _md_code(text: str) -> str:
    """Text as a code span inside a table cell, its surrounding spaces kept outside."""
    if not text.strip():
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    code = text.strip().replace("|", "\\|")  # GFM tables need the pipe escaped, even in code
    return f"{lead}`{code}`{trail}"


def _md_link(name: str) -> str:
    return f"[{_short(name)}](#{_anchor(_short(name))})"


def _md_address(spec: ChannelSpec) -> str:
    return spec.address.replace("{" + INSTITUTION_PARAMETER + "}", "<institution>")


def _avro_default(value: Any) -> str:
    # Avro defaults are JSON; a string default reads better without its quotes.
    return value if isinstance(value, str) else json.dumps(value)


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _first_sentence(text: str) -> str:
    # A sentence ends at a full stop before a capital, so "e.g. a PPK" does not end one.
    match = re.match(r"(.+?\.)(?=\s+[A-Z]|\s*$)", text, re.DOTALL)
    return match.group(1) if match else text


def _title(name: str) -> str:
    """``ReportReceived`` as a title: ``Report received``."""
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)
    return " ".join([words[0], *(word.lower() for word in words[1:])]) if words else name


def _short(full_name: str) -> str:
    return full_name.rsplit(".", 1)[-1]


# -- YAML and the CLI ------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors or aliases, multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        # Shared sub-objects must be written out in full, never as &id001 / *id001.
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_yaml(document: Json) -> str:
    """Returns the document as YAML; key order is the document's own, which is deterministic."""
    header = (
        f"# Generated by `{REGENERATE_COMMAND}` from schemas/avro and streams/topics.py.\n"
        "# Do not edit by hand: change the schemas or the generator, then regenerate.\n"
    )
    body = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    return header + body


def package_version() -> str:
    """The installed version of the ``kawal`` package.

    Raises:
        AsyncApiError: the package is not installed (run ``pip install -e .``).
    """
    try:
        return metadata.version("kawal")
    except metadata.PackageNotFoundError as exc:
        raise AsyncApiError(
            "package kawal is not installed, so its version is unknown; run `make install`"
        ) from exc


def generate(
    catalog: SchemaCatalog | None = None, institutions: Sequence[Institution] | None = None
) -> dict[Path, str]:
    """Returns the generated files, keyed by their path relative to the project root."""
    catalog = catalog or default_catalog()
    institutions = load_institutions() if institutions is None else institutions
    document = build_document(catalog, institutions, package_version())
    return {
        YAML_PATH: render_yaml(document),
        DOCS_PATH: build_markdown(catalog, institutions),
    }


def stale_files(root: Path, files: dict[Path, str]) -> list[Path]:
    """The files under ``root`` that are missing or differ from the generated text."""
    return [
        path
        for path, text in files.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Writes, or with ``--check`` verifies, schemas/asyncapi.yaml and docs/events.md.

    Returns:
        0 when written or up to date, 1 when ``--check`` finds a stale file, 2 on an error.
    """
    args = _parse_args(argv)
    try:
        files = generate()
    except KawalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return _check(args.root, files)
    for path, text in files.items():
        (args.root / path).parent.mkdir(parents=True, exist_ok=True)
        (args.root / path).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path}")
    return 0


def _check(root: Path, files: dict[Path, str]) -> int:
    stale = stale_files(root, files)
    for path in stale:
        print(
            f"{path} is stale: it differs from what the schemas and topics generate; "
            f"regenerate it with `{REGENERATE_COMMAND}` and commit the result",
            file=sys.stderr,
        )
    return 1 if stale else 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m schemas.asyncapi",
        description="Generate schemas/asyncapi.yaml and docs/events.md from schemas and topics.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a committed file differs from the generated one",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=PROJECT_ROOT,
        help="project root the files are written to or checked in (default: this checkout)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(main())
