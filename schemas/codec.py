"""Encoding and decoding of Kawal messages in the two Avro wire formats.

The hub writes Avro single-object encoding: ``0xC3 0x01``, the 8-byte little-endian CRC-64-AVRO
fingerprint of the schema's Parsing Canonical Form, then the Avro binary body. Those bytes are
also the *canonical bytes* of an event, the input of the audit hash chain, so
:meth:`AvroCodec.encode_canonical` is deterministic: the same record always gives the same
bytes, on every machine.

Readers also accept the Confluent wire format (``0x00``, a 4-byte big-endian schema id, the
body) when a :class:`SchemaIdResolver` is configured. A codec built with a
:class:`SchemaRegistry` (``schemas.registry.SchemaRegistryClient``) also *writes* that format:
:meth:`AvroCodec.encode` registers each schema once and frames the body with its id, while
:meth:`AvroCodec.encode_canonical` and :meth:`AvroCodec.canonical_bytes` stay single-object, so
the audit hash chain never depends on a registry's ids.

Error messages name schemas, fingerprints, field paths and byte counts, never field values:
records carry personal data, and messages end up in logs and DLQ reasons.

Example:
    >>> from schemas.catalog import default_catalog
    >>> codec = AvroCodec(default_catalog())
    >>> data = codec.encode("kawal.DeadLetter", {
    ...     "stage": "ingress", "reason_code": "undecodable", "reason": "bad magic byte",
    ...     "source_topic": "kawal.inbound.bkn", "source_partition": 0, "source_offset": 7,
    ...     "payload": b"?", "rejected_at": 0})
    >>> codec.decode(data).full_name
    'kawal.DeadLetter'
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fastavro.types import Schema

from schemas.body import check_determinism, read_body, write_body, write_unchecked
from schemas.catalog import SchemaCatalog
from schemas.errors import (
    BadMagicError,
    CodecError,
    SchemaMismatchError,
    TruncatedMessageError,
    UnknownSchemaError,
)
from schemas.older_writers import OlderWriters

__all__ = [
    "AvroCodec",
    "BadMagicError",
    "CodecError",
    "Decoded",
    "SchemaIdResolver",
    "SchemaMismatchError",
    "SchemaRegistry",
    "TruncatedMessageError",
    "UnknownSchemaError",
]

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = 0x00
_SINGLE_OBJECT_HEADER_BYTES = 10  # magic (2) + fingerprint (8)
_CONFLUENT_HEADER_BYTES = 5  # magic (1) + schema id (4)


class SchemaIdResolver(Protocol):
    """Maps a schema-registry id (Confluent wire format) to a full name in the catalogue.

    The body is read with the catalogue's version of that schema, so the registry must hold
    the same versions as ``schemas/avro``.
    """

    def full_name_for(self, schema_id: int) -> str:
        """Returns the full name registered under ``schema_id``; raises LookupError if none."""
        ...


class SchemaRegistry(SchemaIdResolver, Protocol):
    """A schema registry the codec writes the Confluent wire format with."""

    def schema_id_for(self, full_name: str) -> int:
        """Returns the id of the catalogue's schema ``full_name``, registering it if needed."""
        ...


@dataclass(frozen=True)
class Decoded:
    """A decoded message: its schema's full name and the record."""

    full_name: str
    record: dict[str, Any]


class AvroCodec:
    """Encodes records in one wire format; decodes both.

    Without a registry, :meth:`encode` writes Avro single-object bytes; with one, the
    Confluent wire format. Decoding accepts either framing in both modes.
    """

    def __init__(
        self,
        catalog: SchemaCatalog,
        resolver: SchemaIdResolver | None = None,
        *,
        registry: SchemaRegistry | None = None,
        older_writers: OlderWriters | None = None,
    ) -> None:
        """Builds a codec over ``catalog``.

        Args:
            catalog: the schemas records are written and read with.
            resolver: maps Confluent schema ids to catalogue names when reading; defaults to
                ``registry``.
            registry: when given, :meth:`encode` writes the Confluent wire format with ids
                from this registry.
            older_writers: released versions to read messages of producers that have not
                upgraded yet; defaults to the bundled release store.
        """
        self._catalog = catalog
        self._older_writers = older_writers or OlderWriters(catalog)
        self._registry = registry
        self._resolver = resolver if resolver is not None else registry

    @property
    def catalog(self) -> SchemaCatalog:
        """The schemas the codec writes and reads with."""
        return self._catalog

    def encode(self, name: str, record: Mapping[str, Any], *, checked: bool = True) -> bytes:
        """Returns ``record`` in the codec's wire format.

        Single-object encoding (see :meth:`encode_canonical`), or with a registry the
        Confluent wire format: ``0x00``, the schema's 4-byte big-endian registry id, the body.
        The schema is registered on first use and its id cached by the registry client.

        Args:
            name: as for :meth:`encode_canonical`.
            record: as for :meth:`encode_canonical`.
            checked: as for :meth:`encode_canonical`.

        Raises:
            UnknownSchemaError: ``name`` is not a message in the catalogue.
            SchemaMismatchError: the record does not fit the schema.
            schemas.registry.SchemaRegistryError: the registry is unreachable or refuses the
                schema (not a :class:`CodecError`: the record itself is fine).
        """
        if self._registry is None:
            return self.encode_canonical(name, record, checked=checked)
        full_name = self._catalog.message_name(name)
        body = self._body(full_name, record, checked)
        schema_id = self._registry.schema_id_for(full_name)
        return bytes([CONFLUENT_MAGIC]) + schema_id.to_bytes(4, "big") + body

    def encode_canonical(
        self, name: str, record: Mapping[str, Any], *, checked: bool = True
    ) -> bytes:
        """Returns the single-object encoding of ``record``: the canonical bytes of an event.

        Args:
            name: full name of a message, or the short name of an event (``ReportReceived``).
            record: field values; timestamps as timezone-aware datetimes, UUIDs as
                ``uuid.UUID`` or lower-case hyphenated strings. Fields with a default may be
                left out.
            checked: validate the record first, for a clear error naming the bad fields.
                Records the hub builds itself, or has just decoded, skip it: validation
                costs five times the write.

        Raises:
            UnknownSchemaError: ``name`` is not a message in the catalogue.
            SchemaMismatchError: the record does not fit the schema.
        """
        full_name = self._catalog.message_name(name)
        body = self._body(full_name, record, checked)
        return SINGLE_OBJECT_MAGIC + self._catalog.fingerprint(full_name) + body

    def decode(self, data: bytes) -> Decoded:
        """Decodes single-object or Confluent-framed bytes.

        Timestamps come back as UTC datetimes, dates as ``datetime.date``, UUIDs as strings.

        Raises:
            TruncatedMessageError: the header or the body ends early.
            BadMagicError: neither framing.
            UnknownSchemaError: unknown fingerprint or schema id, or no resolver for an id.
            SchemaMismatchError: the body does not decode exactly with the schema.
        """
        full_name, body, writer = self._split(data)
        reader = self._catalog.schema(full_name)
        record = read_body(full_name, writer or reader, body, reader)
        return Decoded(full_name, record)

    def canonical_bytes(self, data: bytes) -> bytes:
        """Returns the canonical bytes (single-object encoding) of a message in either framing.

        Re-encoding normalizes the framing and any non-minimal Avro varints, so equal events
        always hash alike.
        """
        decoded = self.decode(data)
        return self.encode_canonical(decoded.full_name, decoded.record)

    def _body(self, full_name: str, record: Mapping[str, Any], checked: bool = True) -> bytes:
        if not checked:
            return write_unchecked(full_name, self._catalog.schema(full_name), record)
        check_determinism(full_name, record, self._catalog.uuid_fields(full_name))
        return write_body(full_name, self._catalog.schema(full_name), record)

    def _split(self, data: bytes) -> tuple[str, bytes, Schema | None]:
        """Returns the message's full name, the Avro body and an older writer schema, if any."""
        if not data:
            raise TruncatedMessageError(
                "empty message (0 bytes); expected an Avro single-object or Confluent header"
            )
        if data[0] == SINGLE_OBJECT_MAGIC[0]:
            return self._split_single_object(data)
        if data[0] == CONFLUENT_MAGIC:
            return (*self._split_confluent(data), None)
        raise BadMagicError(
            f"first byte is 0x{data[0]:02x}, expected 0xc3 (Avro single-object) or 0x00 "
            "(Confluent); encode with the shared schemas in schemas/avro"
        )

    def _split_single_object(self, data: bytes) -> tuple[str, bytes, Schema | None]:
        if len(data) > 1 and data[1] != SINGLE_OBJECT_MAGIC[1]:
            raise BadMagicError(
                f"single-object header 0xc3 0x{data[1]:02x}, expected 0xc3 0x01; "
                "this Avro single-object version is not supported"
            )
        _require_header(data, _SINGLE_OBJECT_HEADER_BYTES, "single-object")
        fingerprint = data[2:_SINGLE_OBJECT_HEADER_BYTES]
        body = data[_SINGLE_OBJECT_HEADER_BYTES:]
        try:
            return self._catalog.name_for_fingerprint(fingerprint), body, None
        except UnknownSchemaError:
            older = self._older_writers.lookup(fingerprint)
            if older is None:
                raise
            return older[0], body, older[1]

    def _split_confluent(self, data: bytes) -> tuple[str, bytes]:
        _require_header(data, _CONFLUENT_HEADER_BYTES, "Confluent")
        schema_id = int.from_bytes(data[1:_CONFLUENT_HEADER_BYTES], "big")
        if self._resolver is None:
            raise UnknownSchemaError(
                f"message is in Confluent wire format (schema id {schema_id}) but no schema "
                "registry is configured; configure the registry URL, or have the producer use "
                "Avro single-object encoding"
            )
        try:
            name = self._resolver.full_name_for(schema_id)
        except LookupError:
            raise UnknownSchemaError(
                f"schema id {schema_id} is not in the schema registry; register the writer's "
                "schema or check the registry URL"
            ) from None
        return self._catalog.message_name(name), data[_CONFLUENT_HEADER_BYTES:]


def _require_header(data: bytes, size: int, framing: str) -> None:
    if len(data) < size:
        raise TruncatedMessageError(
            f"{framing} header needs {size} bytes, message has {len(data)}; "
            "it was cut off in transit or by the producer"
        )
