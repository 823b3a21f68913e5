"""The catalogue of Kawal's Avro schemas, loaded from the ``.avsc`` files in ``schemas/avro``.

Each file holds one named type and is called after its full name (``kawal.Envelope.avsc``), so
fastavro resolves a reference such as ``"kawal.Envelope"`` from the sibling file. A *message* is
a record that travels on its own: every record no other schema refers to (the events,
``kawal.AuditEntry``, ``kawal.DeadLetter``). Messages are identified on the wire by the
CRC-64-AVRO fingerprint of their Parsing Canonical Form.

Event records carry two custom attributes, ``kawal.emitted_by`` and ``kawal.consumed_by``: the
roles (lower-cased ``kawal.InstitutionRole`` symbols) that may publish and that receive the
event, as in DOMAIN.md's lifecycle table. Routing, authorization and the generated docs read
them through :meth:`SchemaCatalog.emitted_by` and :meth:`SchemaCatalog.consumed_by`.

Example:
    >>> catalog = default_catalog()
    >>> catalog.full_name("ReportReceived")
    'kawal.events.ReportReceived'
    >>> "subject_nip" in catalog.personal_data_fields("ReportReceived")
    True
    >>> catalog.emitted_by("SanctionImposed")
    ('ppk',)
    >>> catalog.fields("SanctionImposed")[4].type
    'date'
"""

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastavro.repository.base import SchemaRepositoryError
from fastavro.schema import (
    SchemaParseException,
    fingerprint,
    load_schema,
    to_parsing_canonical_form,
)

from schemas.errors import SchemaLoadError, UnknownSchemaError

#: Schema attribute marking a field that holds personal data (Law 27/2022); the disclosure
#: policy (streams/data/disclosure.toml) may only name fields that carry it.
PERSONAL_DATA_ATTRIBUTE = "kawal.personal_data"
#: Record attributes listing the roles that may emit, and that consume, an event.
EMITTED_BY_ATTRIBUTE = "kawal.emitted_by"
CONSUMED_BY_ATTRIBUTE = "kawal.consumed_by"
#: Namespace of the case events; their short names are the ``event_type`` values.
EVENTS_NAMESPACE = "kawal.events"
DEFAULT_DIRECTORY = Path(__file__).parent / "avro"

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_ROLE_ATTRIBUTES = (EMITTED_BY_ATTRIBUTE, CONSUMED_BY_ATTRIBUTE)


@dataclass(frozen=True)
class FieldInfo:
    """One field of a record, described for docs generators.

    Attributes:
        name: the field name.
        type: the type as a readable string, e.g. ``'null | kawal.SanctionLevel'``,
            ``'timestamp-millis'``, ``'array<string>'``.
        doc: the field's documentation.
        personal_data: whether the field is marked ``kawal.personal_data``.
        has_default: whether the field has a default, so writers may leave it out.
        default: the default value, when ``has_default``.
    """

    name: str
    type: str
    doc: str
    personal_data: bool
    has_default: bool
    default: Any = None


class SchemaCatalog:
    """Every named type in one directory of ``.avsc`` files, parsed and fingerprinted.

    Lookups accept a full name (``kawal.AuditEntry``) or, for events, the short name
    (``ReportReceived``).
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory or DEFAULT_DIRECTORY
        self._schemas = _load_directory(self._directory)
        self._fingerprints = {name: schema_fingerprint(s) for name, s in self._schemas.items()}
        self._messages = _message_names(self._schemas)
        self._field_paths = {
            name: tuple(_fields(schema, "", self._schemas))
            for name, schema in self._schemas.items()
            if schema["type"] == "record"
        }
        self._by_fingerprint = {self._fingerprints[name]: name for name in self._messages}
        # Asked for every event the hub chains; the schemas never change once loaded.
        self._personal_data = {
            name: self._paths_where(name, lambda field: field.get(PERSONAL_DATA_ATTRIBUTE) is True)
            for name in self._field_paths
        }
        self._events = {
            name.removeprefix(EVENTS_NAMESPACE + "."): name
            for name in self._messages
            if name.startswith(EVENTS_NAMESPACE + ".")
        }

    def names(self) -> tuple[str, ...]:
        """Full names of the messages (records that travel on their own), sorted."""
        return tuple(sorted(self._messages))

    def event_types(self) -> tuple[str, ...]:
        """Short names of the case events (``kawal.events.*``), sorted."""
        return tuple(sorted(self._events))

    def full_name(self, name: str) -> str:
        """Returns the full name of a named type given its full name or an event's short name.

        Raises:
            UnknownSchemaError: no such type; the message lists the known messages.
        """
        if name in self._schemas:
            return name
        if name in self._events:
            return self._events[name]
        raise UnknownSchemaError(
            f"no schema named {name!r} in {self._directory}; known messages: "
            f"{', '.join(self.names())}. Add the .avsc file or fix the name."
        )

    def message_name(self, name: str) -> str:
        """Like :meth:`full_name`, but only for messages: types that travel on their own.

        Raises:
            UnknownSchemaError: unknown, or a part of messages such as ``kawal.Envelope``.
        """
        full_name = self.full_name(name)
        if full_name not in self._messages:
            raise UnknownSchemaError(
                f"{full_name} is part of other messages and never travels alone; "
                f"encode one of: {', '.join(self.names())}"
            )
        return full_name

    def schema(self, name: str) -> dict[str, Any]:
        """Returns the parsed fastavro schema, with every named reference resolved inline."""
        return self._schemas[self.full_name(name)]

    def canonical_form(self, name: str) -> str:
        """Returns the Parsing Canonical Form (the JSON the fingerprint is taken of)."""
        return to_parsing_canonical_form(self.schema(name))

    def fingerprint(self, name: str) -> bytes:
        """Returns the 8-byte CRC-64-AVRO fingerprint, little-endian as on the wire."""
        return self._fingerprints[self.full_name(name)]

    def name_for_fingerprint(self, fingerprint: bytes) -> str:
        """Returns the full name of the message with this fingerprint.

        Raises:
            UnknownSchemaError: no message has it (written with another schema version).
        """
        try:
            return self._by_fingerprint[fingerprint]
        except KeyError:
            raise UnknownSchemaError(
                f"no schema in the catalogue has fingerprint {fingerprint.hex()}: the writer used "
                "a schema version this reader does not have. Write with a released version "
                "(schemas/releases/, the current one in schemas/avro/), its fingerprint the "
                "CRC-64-AVRO of its Parsing Canonical Form with every named type inlined at its "
                "first use (docs/signing.md); or deploy the writer's newer version here"
            ) from None

    def schema_json(self, name: str) -> str:
        """Returns the schema as self-contained JSON text, docs and ``kawal.*`` attributes kept.

        Each named type is defined at its first use and referred to by full name after, so the
        text stands alone: it is what a schema registry is given.
        """
        return json.dumps(_public(self.schema(name)), ensure_ascii=False)

    def record_doc(self, name: str) -> str:
        """Returns the ``doc`` of a named type (record or enum); empty if it has none."""
        return str(self.schema(name).get("doc", ""))

    def fields(self, name: str) -> tuple[FieldInfo, ...]:
        """Describes the top-level fields of a record, in schema order.

        A nested record is named by its full name in ``type``; describe it with another call.

        Raises:
            UnknownSchemaError: no such type.
            ValueError: the type is not a record.
        """
        schema = self.schema(name)
        if schema["type"] != "record":
            raise ValueError(f"{schema['name']} is a {schema['type']}, not a record")
        return tuple(_field_info(field) for field in schema["fields"])

    def emitted_by(self, name: str) -> tuple[str, ...]:
        """Roles that may emit the event (``kawal.emitted_by``); empty for other records."""
        return tuple(self.schema(name).get(EMITTED_BY_ATTRIBUTE, ()))

    def consumed_by(self, name: str) -> tuple[str, ...]:
        """Roles that receive the event (``kawal.consumed_by``); empty for other records."""
        return tuple(self.schema(name).get(CONSUMED_BY_ATTRIBUTE, ()))

    def personal_data_fields(self, name: str) -> tuple[str, ...]:
        """Dotted paths of the fields marked ``kawal.personal_data`` (nested records included)."""
        return self._personal_data.get(self.full_name(name), ())

    def uuid_fields(self, name: str) -> tuple[str, ...]:
        """Dotted paths of the fields whose type, or a branch of its union, is a uuid."""
        return self._paths_where(name, lambda field: "uuid" in _logical_types(field["type"]))

    def _paths_where(self, name: str, keep: Callable[[dict[str, Any]], bool]) -> tuple[str, ...]:
        fields = self._field_paths.get(self.full_name(name), ())
        return tuple(path for path, field in fields if keep(field))


@functools.cache
def default_catalog() -> SchemaCatalog:
    """Returns the catalogue of the package's own schemas, loaded once per process."""
    return SchemaCatalog()


def schema_fingerprint(schema: dict[str, Any]) -> bytes:
    """Returns the 8-byte CRC-64-AVRO fingerprint of a parsed schema, as on the wire.

    Schemas from elsewhere (a registry) are compared with the catalogue's through it.
    """
    # fastavro already returns the hex of the little-endian bytes, the order Java writes.
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


def _load_directory(directory: Path) -> dict[str, dict[str, Any]]:
    paths = sorted(directory.glob("*.avsc"))
    if not paths:
        raise SchemaLoadError(f"no .avsc files in {directory}; point the catalogue at schemas/avro")
    return {path.stem: _load_file(path) for path in paths}


def _load_file(path: Path) -> dict[str, Any]:
    try:
        schema = load_schema(str(path))
    except (OSError, ValueError, SchemaParseException, SchemaRepositoryError) as exc:
        raise SchemaLoadError(f"cannot load {path.name}: {exc}") from exc
    name = schema.get("name") if isinstance(schema, dict) else None
    if not isinstance(schema, dict) or name != path.stem:
        # load_schema finds a referenced type only through its file name.
        raise SchemaLoadError(
            f"{path.name} defines {name!r}; each file must hold one named type and be called "
            f"<full name>.avsc"
        )
    _check_role_attributes(path, schema)
    return schema


def _check_role_attributes(path: Path, schema: dict[str, Any]) -> None:
    for attribute in _ROLE_ATTRIBUTES:
        roles = schema.get(attribute, [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise SchemaLoadError(
                f"{path.name}: {attribute} must be a list of role names such as "
                '["election_supervisor"]'
            )


def _message_names(schemas: dict[str, dict[str, Any]]) -> set[str]:
    referenced = set().union(*(_named_types(s) - {name} for name, s in schemas.items()))
    return {
        name
        for name, schema in schemas.items()
        if schema["type"] == "record" and name not in referenced
    }


def _named_types(schema: Any) -> set[str]:
    """Names of the named types a schema defines or refers to, its own name included."""
    if isinstance(schema, str):
        return set() if schema in _PRIMITIVES else {schema}
    if isinstance(schema, list):
        return set().union(*(_named_types(branch) for branch in schema))
    names = {schema["name"]} if "name" in schema else set()
    kind = schema["type"]
    if kind == "record":
        names = names.union(*(_named_types(field["type"]) for field in schema["fields"]))
    elif kind in ("array", "map"):
        names |= _named_types(schema["items" if kind == "array" else "values"])
    elif kind not in ("enum", "fixed"):
        names |= _named_types(kind)  # a primitive with a logicalType, or a nested type
    return names


def _fields(
    schema: Any, prefix: str, named: dict[str, dict[str, Any]], seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields (dotted path, field) for every field of a record, descending into nested records."""
    seen = seen | {schema["name"]}  # a recursive type is listed once, not followed forever
    for field in schema["fields"]:
        path = prefix + field["name"]
        yield path, field
        for record in _records_in(field["type"], named):
            if record["name"] not in seen:
                yield from _fields(record, path + ".", named, seen)


def _records_in(schema: Any, named: dict[str, dict[str, Any]]) -> list[Any]:
    """The record schemas a field type can hold: itself, a union branch, or a named reference."""
    if isinstance(schema, list):
        return [record for branch in schema for record in _records_in(branch, named)]
    if isinstance(schema, str):
        return _records_in(named[schema], named) if schema in named else []
    return [schema] if schema["type"] == "record" else []


def _logical_types(schema: Any) -> set[str]:
    """Logical types of a type or of the branches of a union (``["null", uuid]``)."""
    if isinstance(schema, list):
        return set().union(*(_logical_types(branch) for branch in schema))
    if isinstance(schema, dict) and "logicalType" in schema:
        return {schema["logicalType"]}
    return set()


def _public(schema: Any) -> Any:
    """The schema without fastavro's private bookkeeping keys (``__fastavro_parsed``, ...)."""
    if isinstance(schema, dict):
        return {key: _public(value) for key, value in schema.items() if not key.startswith("__")}
    if isinstance(schema, list):
        return [_public(item) for item in schema]
    return schema


def _field_info(field: dict[str, Any]) -> FieldInfo:
    return FieldInfo(
        name=field["name"],
        type=_type_name(field["type"]),
        doc=field.get("doc", ""),
        personal_data=field.get(PERSONAL_DATA_ATTRIBUTE) is True,
        has_default="default" in field,
        default=field.get("default"),
    )


def _type_name(schema: Any) -> str:
    """A readable name of a type: ``'null | string'``, ``'array<kawal.Sanction>'``, ``'date'``."""
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return " | ".join(_type_name(branch) for branch in schema)
    if "logicalType" in schema:
        return str(schema["logicalType"])
    kind = schema["type"]
    if kind in ("record", "enum", "fixed"):
        return str(schema["name"])
    if kind == "array":
        return f"array<{_type_name(schema['items'])}>"
    if kind == "map":
        return f"map<{_type_name(schema['values'])}>"
    return _type_name(kind)
