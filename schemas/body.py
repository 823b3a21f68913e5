"""The Avro binary body of a Kawal message, without its framing (:mod:`schemas.codec`).

Writes are checked against the schema; reads tell a body cut off in transit from one written
with another schema. Every reader of Kawal messages goes through here, so they all read uuids
as canonical strings. Error messages name schemas and field paths, never values: records carry
personal data.
"""

import datetime as dt
import io
import re
import uuid
from collections.abc import Mapping
from typing import Any

import fastavro.read
from fastavro import schemaless_reader, schemaless_writer
from fastavro.types import Schema
from fastavro.validation import ValidationError, validate

from schemas.errors import NaiveTimeError, SchemaMismatchError, TruncatedMessageError

_MAX_VARINT_BYTES = 10  # a zigzag varint of a 64-bit long
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _read_uuid(
    data: str, writer_schema: dict[str, Any] | None, reader_schema: dict[str, Any] | None
) -> str:
    """A uuid as the hub holds it: its lower-case hyphenated string (a ValueError if none).

    fastavro's own reader returns ``uuid.UUID`` objects, which every record read would then
    have to be walked for and turned back into strings.
    """
    return data if _CANONICAL_UUID.fullmatch(data) else str(uuid.UUID(data))


# fastavro's documented hook for logical types; every reader of Kawal messages goes through
# this module, so they all read uuids as strings.
fastavro.read.LOGICAL_READERS["string-uuid"] = _read_uuid


def check_determinism(
    full_name: str, record: Mapping[str, Any], uuid_paths: tuple[str, ...]
) -> None:
    """Rejects values fastavro would encode differently for the same event.

    fastavro reads a naive datetime in the machine's local zone, and writes a UUID string
    verbatim while readers normalize it, so either would break the canonical bytes.
    """
    naive = _naive_datetime_paths(record, "")
    if naive:
        raise NaiveTimeError(
            f"{full_name}: naive datetime at {', '.join(naive)}; "
            "pass timezone-aware datetimes (UTC)"
        )
    bad_uuids = [path for path in uuid_paths if not _is_canonical_uuid(_value_at(record, path))]
    if bad_uuids:
        raise SchemaMismatchError(
            f"{full_name}: {', '.join(bad_uuids)} must be a uuid.UUID or a lower-case "
            "hyphenated UUID string"
        )


def _naive_datetime_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, dt.datetime):
        return [path] if value.utcoffset() is None else []
    if isinstance(value, Mapping):
        children = [(_join(path, key), item) for key, item in value.items()]
    elif isinstance(value, list):
        children = [(_join(path, index), item) for index, item in enumerate(value)]
    else:
        return []
    return [naive for child, item in children for naive in _naive_datetime_paths(item, child)]


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _value_at(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _is_canonical_uuid(value: Any) -> bool:
    if value is None or isinstance(value, uuid.UUID):
        return True  # a missing value is reported by schema validation
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


#: What a producer whose record does not fit is told to do.
_FIX = "fix the producer to follow the schema (docs/events.md lists each field's type)"


def write_body(full_name: str, schema: Schema, record: Mapping[str, Any]) -> bytes:
    """``record`` validated against ``schema``, then written (errors name fields, not values)."""
    try:
        validate(record, schema, raise_errors=True)
    except ValidationError as exc:
        expected: dict[str, list[str]] = {}
        for error in exc.errors:
            expected.setdefault(error.field, []).append(_expected(error.schema))
        fields = [f"{field} (expected {' or '.join(kinds)})" for field, kinds in expected.items()]
        # `from None`: fastavro's message quotes the offending value, which may be personal data.
        raise SchemaMismatchError(
            f"{full_name}: missing value or wrong type at {', '.join(sorted(fields))}; {_FIX}"
        ) from None
    except (ValueError, TypeError):
        # fastavro converts logical types (date, timestamp, uuid) while it validates; a value
        # it cannot convert raises a bare error quoting it, so the fields are found again.
        fields = _unconvertible(full_name, schema, record) or ["a field"]
        raise SchemaMismatchError(
            f"{full_name}: {', '.join(fields)} holds a value its type cannot take (text in a "
            f"date or time field?); {_FIX}"
        ) from None
    buffer = io.BytesIO()
    try:
        schemaless_writer(buffer, schema, record, strict_allow_default=True)
    except (ValueError, TypeError) as exc:
        # After validation only key errors remain, whose messages name fields, not values.
        raise SchemaMismatchError(f"{full_name}: {exc}; fix the producer") from None
    return buffer.getvalue()


def _unconvertible(full_name: str, schema: Schema, record: Mapping[str, Any]) -> list[str]:
    """The fields of ``record`` whose value fastavro cannot convert to their type."""
    fields = schema.get("fields", []) if isinstance(schema, Mapping) else []
    found = []
    for field in fields:
        try:
            validate(record.get(field["name"]), field["type"], raise_errors=False)
        except (ValueError, TypeError, KeyError):
            found.append(f"{full_name}.{field['name']}")
    return found


#: Symbols of an enum a refusal lists: every symbol of each enum of the catalogue today.
_SYMBOLS_SHOWN = 24


def _expected(schema: Any) -> str:
    """What a field of ``schema`` takes, in a few words: its type, never a value."""
    if isinstance(schema, list):
        return " or ".join(_expected(branch) for branch in schema)
    if not isinstance(schema, Mapping):
        return str(schema)
    if schema.get("type") == "enum":
        symbols = [str(symbol) for symbol in schema.get("symbols", [])]
        listed = ", ".join(symbols[:_SYMBOLS_SHOWN]) + (", ..." * (len(symbols) > _SYMBOLS_SHOWN))
        return f"a symbol of {schema.get('name')}: {listed}"
    if "logicalType" in schema:
        return f"{schema['type']} ({schema['logicalType']})"
    return str(schema.get("name") or schema.get("type"))


def write_unchecked(full_name: str, schema: Schema, record: Mapping[str, Any]) -> bytes:
    """``record`` written without validation: for records the hub built itself."""
    buffer = io.BytesIO()
    try:
        schemaless_writer(buffer, schema, record)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # `from None`: the writer's message can quote the offending value.
        raise SchemaMismatchError(
            f"{full_name}: record does not fit the schema ({type(exc).__name__}); "
            "encode it checked to see which field"
        ) from None
    return buffer.getvalue()


def read_body(full_name: str, schema: Schema, body: bytes, reader: Schema) -> dict[str, Any]:
    """Reads ``body`` written with ``schema`` as ``reader`` (the same unless an older writer)."""
    buffer = io.BytesIO(body)
    try:
        record = schemaless_reader(buffer, schema, None if reader is schema else reader)
    except Exception as exc:  # untrusted bytes: any reader failure means undecodable
        # `from None` throughout: reader messages can quote bytes of the payload.
        if isinstance(exc, EOFError) or _ends_early(schema, body):
            raise TruncatedMessageError(
                f"{full_name} body ends early ({len(body)} bytes); "
                "it was cut off in transit or by the producer"
            ) from None
        if _time_out_of_range(exc):
            raise SchemaMismatchError(
                f"{full_name} body holds a time or date out of the years 1 to 9999: write "
                "timestamp-millis as milliseconds since the Unix epoch (not micro- or "
                "nanoseconds), date as days since it"
            ) from None
        raise SchemaMismatchError(
            f"{len(body)}-byte body does not decode as {full_name} ({type(exc).__name__}); "
            "it was written with another schema or is corrupt"
        ) from None
    trailing = len(body) - buffer.tell()
    if trailing or not isinstance(record, dict):
        raise SchemaMismatchError(
            f"{trailing} bytes left after a {full_name} body; "
            "it was written with another schema under the same header"
        )
    return record


def _time_out_of_range(exc: Exception) -> bool:
    """Tells whether the reader failed turning a timestamp-millis or date into a datetime."""
    return isinstance(exc, OverflowError) or (
        isinstance(exc, ValueError) and str(exc).startswith("year ")
    )


def _ends_early(schema: Schema, body: bytes) -> bool:
    """Tells whether more bytes would have let the body decode.

    The reader raises IndexError, not EOFError, when a varint runs past the end. Zero bytes end
    any varint and encode a valid value of almost every type, so if padding lets the reader go
    on into the padding, the body was cut off rather than corrupted; a probe that ends within
    the body found a bad value, such as a uuid field holding no uuid. Zero bytes read as an
    empty string, which is no UUID either, so the probe reads uuids as plain strings.
    """
    try:
        padded = io.BytesIO(body + bytes(_MAX_VARINT_BYTES))
        schemaless_reader(padded, _probe_schema(schema), None)
    except EOFError:
        return True
    except Exception:  # still undecodable: the damage is not at the end
        return False
    return padded.tell() > len(body)


def _probe_schema(schema: Any) -> Any:
    """The schema the truncation probe reads with: uuid-typed strings as plain strings.

    fastavro's bookkeeping keys (``__fastavro_parsed``, ``__named_schemas``) are dropped, so the
    reader parses the copy afresh rather than reusing the original named types.
    """
    if isinstance(schema, list):
        return [_probe_schema(branch) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("logicalType") == "uuid":
        return schema["type"]
    return {key: _probe_schema(value) for key, value in schema.items() if not key.startswith("__")}
