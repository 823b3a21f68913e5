"""The AsyncAPI 3.0 document, generated from topics and schemas, and the CLI for the contract.

One command, four outputs, all committed so that readers need no tooling:

- ``schemas/asyncapi.yaml``: an AsyncAPI 3.0.0 document, built here. Channels are the hub's
  public topics, messages are the catalogue's messages with their Avro schemas as payload,
  operations are the hub's own view (it receives on inbound topics and sends on every other one).
- ``docs/events.md``: the same facts for people, with personal-data fields flagged; built by
  :mod:`streams.contract.eventdocs`. The facts both share (channels, routing, roles) are in
  :mod:`streams.contract.channels`.
- ``docs/disclosure-policy.md``: the bundled disclosure policy for people (``disclosuredocs``).
- ``docs/configuration.md``: every ``KAWAL_*`` setting with its default (``settingsdocs``).

Run ``python -m streams.contract.asyncapi`` to regenerate all four, with ``--check`` to fail
(exit 1) when a committed file is stale. Output is deterministic: maps are written in a fixed
order (sorted where order carries no meaning), and only the package version, the schemas, the
topic layout, the bundled institutions registry and disclosure policy and the settings' fields
go in, never the environment.

Example:
    >>> document = build_document(default_catalog(), load_institutions(), "0.1.0")
    >>> document["asyncapi"], "ReportReceived" in document["components"]["messages"]
    ('3.0.0', True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from schemas.catalog import (
    EVENTS_NAMESPACE,
    PERSONAL_DATA_ATTRIBUTE,
    SchemaCatalog,
    default_catalog,
)
from streams.contract.channels import (
    ASYNCAPI_VERSION,
    CHANNELS,
    INSTITUTION_PARAMETER,
    REGENERATE_COMMAND,
    AsyncApiError,
    ChannelSpec,
    channel_messages,
    parties,
    short_name,
)
from streams.contract.disclosuredocs import build_policy_markdown
from streams.contract.eventdocs import build_markdown
from streams.contract.generated_files import run_generator
from streams.contract.rendering import avro_payload, render_yaml
from streams.contract.settingsdocs import build_settings_markdown
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.institutions import Institution, load_institutions
from streams.headers import CE_SPEC_VERSION, CE_TYPE_PREFIX, SOURCE_HEADER
from streams.settings import Settings
from streams.topics import CASE_EVENTS

AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
AVRO_CONTENT_TYPE = "application/vnd.apache.avro"
KAFKA_BINDING_VERSION = "0.5.0"

#: What ``--help`` says the generator writes.
DESCRIPTION = (
    "Generate schemas/asyncapi.yaml, docs/events.md, docs/disclosure-policy.md, "
    "docs/configuration.md."
)
YAML_PATH = Path("schemas/asyncapi.yaml")
DOCS_PATH = Path("docs/events.md")
POLICY_PATH = Path("docs/disclosure-policy.md")
SETTINGS_PATH = Path("docs/configuration.md")

# Avro keys first in reading order, so a schema reads name, type, doc, then its body.

Json = dict[str, Any]


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


def message_id(catalog: SchemaCatalog, name: str) -> str:
    """The AsyncAPI message id of a message: an event's short name, else the record's name."""
    return short_name(catalog.full_name(name))


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
hub withholds each from every feed whose institution's roles the disclosure policy \
(docs/disclosure-policy.md) does not grant it, keeping a salted hash so all verify one chain.
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
            short_name(name): {"$ref": f"#/components/messages/{short_name(name)}"}
            for name in messages
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
            {"$ref": f"#/channels/{spec.id}/messages/{short_name(name)}"} for name in messages
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
        "name": short_name(full_name),
        "title": _title(short_name(full_name)),
        "summary": _first_sentence(catalog.record_doc(full_name)),
        "description": _message_description(catalog, full_name, institutions),
        "contentType": AVRO_CONTENT_TYPE,
        "payload": {"schemaFormat": AVRO_SCHEMA_FORMAT, "schema": avro_payload(catalog, name)},
        "bindings": {"kafka": _kafka_binding(_key(full_name, is_event))},
    }
    if is_event:
        message["headers"] = _cloud_event_headers(short_name(full_name))
    return message


# The DLQ keeps a rejected record's key as it came, which need not be a case id.
_CASE_KEYED_RECORDS = frozenset({"kawal.AuditEntry"})
#: Records keyed by neither a case nor a rejected record's key.
_FIXED_KEYS: dict[str, Json] = {
    "kawal.TreeHead": {
        "type": "string",
        "const": "kawal",
        "description": "Always `kawal`, the hub: the heads are one sequence on one partition.",
    },
}


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
            f"Personal data ({PERSONAL_DATA_ATTRIBUTE}; redacted unless the disclosure policy "
            f"grants it to the receiver's role): {', '.join(personal)}."
        )
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    # A sentence ends at a full stop before a capital, so "e.g. a PPK" does not end one.
    match = re.match(r"(.+?\.)(?=\s+[A-Z]|\s*$)", text, re.DOTALL)
    return match.group(1) if match else text


def _title(name: str) -> str:
    """``ReportReceived`` as a title: ``Report received``."""
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)
    return " ".join([words[0], *(word.lower() for word in words[1:])]) if words else name


def _key(full_name: str, is_event: bool) -> Json:
    if full_name in _FIXED_KEYS:
        return _FIXED_KEYS[full_name]
    if is_event or full_name in _CASE_KEYED_RECORDS:
        return {
            "type": "string",
            "format": "uuid",
            "description": "case_id (UUIDv5), UTF-8; keeps each case in order on one partition.",
        }
    return {
        "type": ["string", "null"],
        "description": "The rejected record's key unchanged: its case_id when it had one.",
    }


def _kafka_binding(key: Json) -> Json:
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
        POLICY_PATH: build_policy_markdown(load_disclosure_policy(None, catalog), catalog),
        SETTINGS_PATH: build_settings_markdown(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Writes, or with ``--check`` verifies, the AsyncAPI document and the three pages.

    Returns:
        0 when written or up to date, 1 when ``--check`` finds a stale file, 2 on an error.
    """
    return run_generator(argv, REGENERATE_COMMAND, DESCRIPTION, lambda _args: generate())


if __name__ == "__main__":
    raise SystemExit(main())
