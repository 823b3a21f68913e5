"""Golden records: a few deterministic records per released schema version, kept as files.

:func:`generate` derives the records from the schema alone, so releasing the same schema twice
gives the same records, byte for byte. Record 0 is minimal (first union branch, usually null;
empty arrays and maps; zeros), record 1 typical, record 2 extreme (large numbers, non-ASCII
text, the last enum symbol).

Each version keeps them twice (layout in ``schemas/releases/README.md``):

- ``v<N>.golden.avro``: an Avro object container file written with that version. It embeds the
  writer's schema, so a reader needs nothing else; the sync marker is fixed so the bytes are
  reproducible.
- ``v<N>.golden.json``: the same records as a JSON array in the Avro JSON encoding of the
  specification (bytes as strings of code points U+0000..U+00FF, a non-null union value as
  ``{"<branch type>": value}``, logical types as their underlying value: ``timestamp-millis``
  as milliseconds since the epoch, ``date`` as days). Readable in review; records can be added
  by hand.

Example:
    >>> schema = {"type": "record", "name": "a.R", "fields": [
    ...     {"name": "note", "type": ["null", "string"]},
    ...     {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
    >>> [(record["note"], record["at"]) for record in generate(schema)]
    [(None, 0), ('note-1', 1700000000000), ('note-2 ✓ é', 1900000000000)]
"""

import decimal
import io
import json
import uuid
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import parse_schema

from schemas.errors import KawalError

#: How many records :func:`generate` makes: minimal, typical, extreme.
GOLDEN_RECORDS = 3
# Fixed, so that writing the same records twice gives the same bytes (fastavro picks a random one).
_SYNC_MARKER = b"kawal.golden.v1\x00"
_MAX_DEPTH = 4  # nesting at which a recursive type takes its null branch or an empty collection
_INTS = (0, 1, 2**31 - 1)
_LONGS = (0, 1, 2**63 - 1)
_FLOATS = (0.0, 1.5, -2.25)  # exact in binary, so they survive the JSON round trip
_BYTES = (b"", b"\x01\x02\x03", bytes(range(250, 256)))
# Values a logical type's reader accepts (a long timestamp of 2**63 - 1 overflows datetime).
_LOGICAL = {
    "date": (0, 19_700, 25_000),
    "time-millis": (0, 3_600_000, 86_399_999),
    "time-micros": (0, 3_600_000_000, 86_399_999_999),
    "timestamp-millis": (0, 1_700_000_000_000, 1_900_000_000_000),
    "timestamp-micros": (0, 1_700_000_000_000_000, 1_900_000_000_000_000),
    "local-timestamp-millis": (0, 1_700_000_000_000, 1_900_000_000_000),
    "local-timestamp-micros": (0, 1_700_000_000_000_000, 1_900_000_000_000_000),
}


class GoldenRecordError(KawalError):
    """Golden records cannot be written or read with the schema given."""


def generate(schema: Any) -> list[Any]:
    """Returns :data:`GOLDEN_RECORDS` deterministic records valid for ``schema``."""
    parsed = parse_schema(schema, {})
    names = _names(parsed, {})
    return [_value(parsed, variant, names, "value", 0) for variant in range(GOLDEN_RECORDS)]


def write_avro(path: Path, schema: Any, records: list[Any]) -> None:
    """Writes ``records`` to an Avro object container file at ``path``, deterministically."""
    buffer = io.BytesIO()
    fastavro.writer(buffer, parse_schema(schema, {}), records, sync_marker=_SYNC_MARKER)
    path.write_bytes(buffer.getvalue())


def read_avro(path: Path, reader_schema: Any | None = None) -> tuple[Any, list[Any]]:
    """Reads a container file, resolving its records against ``reader_schema`` if given.

    Returns:
        The writer's schema embedded in the file, and the records.

    Raises:
        GoldenRecordError: the file is not readable, or a record does not resolve.
    """
    reader = parse_schema(reader_schema, {}) if reader_schema is not None else None
    try:
        with path.open("rb") as file:
            avro = fastavro.reader(file, reader)
            return avro.writer_schema, list(avro)
    except Exception as exc:  # fastavro raises many unrelated types for unreadable data
        raise GoldenRecordError(f"{path.name}: {type(exc).__name__}: {exc}") from exc


def write_json(path: Path, schema: Any, records: list[Any]) -> None:
    """Writes ``records`` to ``path`` as a JSON array in the Avro JSON encoding."""
    lines = io.StringIO()
    fastavro.json_writer(lines, parse_schema(schema, {}), records)
    documents = [json.loads(line) for line in lines.getvalue().splitlines()]
    path.write_text(json.dumps(documents, indent=2) + "\n", encoding="utf-8")


def read_json(path: Path, writer_schema: Any, reader_schema: Any | None = None) -> list[Any]:
    """Reads a JSON golden file written with ``writer_schema``, resolving to ``reader_schema``.

    Raises:
        GoldenRecordError: the file is not a JSON array, or a record does not resolve.
    """
    try:
        documents = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(documents, list):
            raise TypeError("expected a JSON array of records")
        # fastavro's JSON reader takes one document per line.
        lines = io.StringIO("\n".join(json.dumps(document) for document in documents))
        writer = parse_schema(writer_schema, {})
        reader = parse_schema(reader_schema, {}) if reader_schema is not None else None
        return list(fastavro.json_reader(lines, writer, reader))
    except Exception as exc:  # fastavro raises many unrelated types for unreadable data
        raise GoldenRecordError(f"{path.name}: {type(exc).__name__}: {exc}") from exc


def roundtrip(writer_schema: Any, reader_schema: Any, records: list[Any]) -> list[Any]:
    """Writes ``records`` with one schema and reads them back with another, in memory.

    Raises:
        GoldenRecordError: a record does not resolve.
    """
    buffer = io.BytesIO()
    try:
        fastavro.writer(buffer, parse_schema(writer_schema, {}), records)
        buffer.seek(0)
        return list(fastavro.reader(buffer, parse_schema(reader_schema, {})))
    except Exception as exc:  # fastavro raises many unrelated types for unreadable data
        raise GoldenRecordError(f"{type(exc).__name__}: {exc}") from exc


def _names(schema: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Maps each named type's full name to its definition, for references by name."""
    if isinstance(schema, list):
        for branch in schema:
            _names(branch, found)
    elif isinstance(schema, dict) and schema["type"] in ("record", "enum", "fixed"):
        if schema["name"] not in found:
            found[schema["name"]] = schema
            for field in schema.get("fields", ()):
                _names(field["type"], found)
    elif isinstance(schema, dict) and schema["type"] in ("array", "map"):
        _names(schema["items" if schema["type"] == "array" else "values"], found)
    return found


def _value(schema: Any, variant: int, names: dict[str, Any], label: str, depth: int) -> Any:
    """A value of ``schema``; ``label`` (the field name) makes strings readable."""
    if isinstance(schema, str) and schema in names:
        schema = names[schema]
    if isinstance(schema, list):
        return _value(_branch(schema, variant, depth), variant, names, label, depth)
    kind = schema if isinstance(schema, str) else schema["type"]
    if kind == "record":
        return {
            field["name"]: _value(field["type"], variant, names, field["name"], depth + 1)
            for field in schema["fields"]
        }
    if kind == "array":
        size = 0 if depth > _MAX_DEPTH else variant
        return [_value(schema["items"], variant, names, label, depth + 1) for _ in range(size)]
    if kind == "map":
        size = 0 if depth > _MAX_DEPTH else variant
        return {
            f"key-{index}": _value(schema["values"], variant, names, label, depth + 1)
            for index in range(size)
        }
    return _scalar(schema, kind, variant, label)


def _branch(branches: list[Any], variant: int, depth: int) -> Any:
    """Variant 0 takes the first branch; the others cycle through the rest."""
    if depth > _MAX_DEPTH and "null" in branches:
        return "null"
    if variant == 0 or len(branches) == 1:
        return branches[0]
    return branches[1 + (variant - 1) % (len(branches) - 1)]


def _scalar(schema: Any, kind: str, variant: int, label: str) -> Any:
    logical = schema.get("logicalType") if isinstance(schema, dict) else None
    if logical in _LOGICAL and kind in ("int", "long"):
        return _LOGICAL[logical][variant]
    if logical == "uuid" and kind == "string":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kawal.golden:{label}:{variant}"))
    if logical == "decimal":
        return _decimal(schema, variant)
    simple: dict[str, Any] = {
        "null": None,
        "boolean": variant == 1,
        "int": _INTS[variant],
        "long": _LONGS[variant],
        "float": _FLOATS[variant],
        "double": _FLOATS[variant],
        "bytes": _BYTES[variant],
        "string": f"{label}-{variant}" + (" ✓ é" if variant == 2 else ""),
    }
    if kind in simple:
        return simple[kind]
    if kind == "enum":
        symbols = schema["symbols"]
        return symbols[(0, len(symbols) // 2, -1)[variant]]
    if kind == "fixed":
        return bytes([variant]) * int(schema["size"])
    raise GoldenRecordError(f"cannot generate a value of type {kind!r}; extend schemas/golden.py")


def _decimal(schema: dict[str, Any], variant: int) -> decimal.Decimal:
    scale = int(schema.get("scale", 0))
    digits = (0, 1, 10 ** int(schema["precision"]) - 1)[variant]
    return decimal.Decimal(-digits if variant == 2 else digits).scaleb(-scale)
