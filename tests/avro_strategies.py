"""Hypothesis strategies that build valid values for any Avro schema, catalogue records first.

The strategy is read off the parsed schema, so every schema added to ``schemas/avro`` is covered
without writing a generator by hand:

- records (fields in order), enums, fixed, arrays and maps (short), unions (any branch);
- named references, resolved from definitions met earlier in the schema or through the
  catalogue, recursive types included;
- primitives over their whole range (``int`` 32-bit, ``long`` 64-bit, floats without NaN, which
  never equals itself);
- logical types in the form the codec gives back: ``uuid`` as lower-case strings, ``date`` as
  ``datetime.date``, timestamps as UTC-aware datetimes truncated to the type's precision, times,
  decimals within their precision. Unknown logical types fall back to the underlying type, as
  the Avro specification says readers must.

Example:
    >>> from schemas.catalog import default_catalog
    >>> strategy = catalog_records(default_catalog(), "CaseClosed")
    >>> strategy.example()["envelope"]["event_type"]  # doctest: +SKIP
    'CaseClosed'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from schemas.catalog import EVENTS_NAMESPACE, SchemaCatalog

__all__ = ["avro_values", "catalog_records"]

SearchStrategy = st.SearchStrategy
#: Collections stay short: the schemas, not the sizes, are what vary between examples.
MAX_ITEMS = 3
MAX_TEXT = 24

_PRIMITIVES: dict[str, SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "int": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(width=32, allow_nan=False),
    "double": st.floats(allow_nan=False),
    "bytes": st.binary(max_size=MAX_TEXT),
    "string": st.text(max_size=MAX_TEXT),
}


def catalog_records(catalog: SchemaCatalog, name: str) -> SearchStrategy[dict[str, Any]]:
    """Valid records of a catalogue record type; events name themselves in envelope.event_type.

    Args:
        catalog: the catalogue holding the record and every type it refers to.
        name: full name, or an event's short name.
    """
    full_name = catalog.full_name(name)
    records: SearchStrategy[dict[str, Any]] = avro_values(catalog.schema(full_name), catalog.schema)
    event_type = full_name.removeprefix(EVENTS_NAMESPACE + ".")
    if event_type == full_name:
        return records
    # The pipeline requires envelope.event_type to name the record, so make every event valid.
    return records.map(lambda record: _with_event_type(record, event_type))


def avro_values(schema: Any, resolve: Callable[[str], Any] | None = None) -> SearchStrategy[Any]:
    """Values valid for a parsed Avro schema (``fastavro.parse_schema`` output).

    Args:
        schema: the parsed schema; names in it are full names.
        resolve: returns the schema of a named type the schema refers to but does not define,
            e.g. ``SchemaCatalog.schema``; not needed for self-contained schemas.
    """
    return _Builder(resolve).build(schema)


class _Builder:
    """Builds strategies for one schema, remembering its named types."""

    def __init__(self, resolve: Callable[[str], Any] | None) -> None:
        self._resolve = resolve
        self._built: dict[str, SearchStrategy[Any]] = {}
        self._references: dict[str, SearchStrategy[Any]] = {}

    def build(self, schema: Any) -> SearchStrategy[Any]:
        if isinstance(schema, list):
            return st.one_of([self.build(branch) for branch in schema])
        if isinstance(schema, str):
            return _PRIMITIVES[schema] if schema in _PRIMITIVES else self._reference(schema)
        logical = _LOGICAL.get(schema.get("logicalType", ""))
        if logical is not None:
            if "name" in schema:  # a decimal on a fixed type, which later fields may name
                self._built[schema["name"]] = logical(schema)
            return logical(schema)
        kind = schema["type"]
        if kind in ("record", "enum", "fixed"):
            return self._define(schema)
        if kind == "array":
            return st.lists(self.build(schema["items"]), max_size=MAX_ITEMS)
        if kind == "map":
            keys = st.text(max_size=MAX_TEXT)
            return st.dictionaries(keys, self.build(schema["values"]), max_size=MAX_ITEMS)
        return self.build(kind)  # a primitive in object form, {"type": "string"}

    def _reference(self, name: str) -> SearchStrategy[Any]:
        if name in self._built:
            return self._built[name]
        if name in self._references:  # a recursive type, still being built
            return self._references[name]
        if self._resolve is None:
            raise ValueError(f"{name} is referred to but not defined; pass resolve=")
        return self._define(self._resolve(name))

    def _define(self, schema: Mapping[str, Any]) -> SearchStrategy[Any]:
        name = schema["name"]
        self._references[name] = st.deferred(lambda: self._built[name])
        self._built[name] = self._named_type(schema)
        return self._built[name]

    def _named_type(self, schema: Mapping[str, Any]) -> SearchStrategy[Any]:
        if schema["type"] == "enum":
            return st.sampled_from(schema["symbols"])
        if schema["type"] == "fixed":
            return st.binary(min_size=schema["size"], max_size=schema["size"])
        fields = {field["name"]: self.build(field["type"]) for field in schema["fields"]}
        return st.fixed_dictionaries(fields)


def _with_event_type(record: dict[str, Any], event_type: str) -> dict[str, Any]:
    return {**record, "envelope": {**record["envelope"], "event_type": event_type}}


def _instants(unit_microseconds: int) -> SearchStrategy[dt.datetime]:
    """UTC-aware datetimes, truncated to the unit a timestamp type keeps."""
    return st.datetimes(timezones=st.just(dt.UTC)).map(
        lambda moment: moment.replace(
            microsecond=moment.microsecond - moment.microsecond % unit_microseconds
        )
    )


def _local_instants(unit_microseconds: int) -> SearchStrategy[dt.datetime]:
    return _instants(unit_microseconds).map(lambda moment: moment.replace(tzinfo=None))


def _times(unit_microseconds: int) -> SearchStrategy[dt.time]:
    return st.times().map(
        lambda moment: moment.replace(
            microsecond=moment.microsecond - moment.microsecond % unit_microseconds
        )
    )


def _decimals(schema: Mapping[str, Any]) -> SearchStrategy[Decimal]:
    scale = int(schema.get("scale", 0))
    limit = Decimal(10) ** (int(schema["precision"]) - scale) - Decimal(10) ** -scale
    return st.decimals(min_value=-limit, max_value=limit, places=scale)


_MILLISECOND = 1000  # in microseconds
_LOGICAL: dict[str, Callable[[Mapping[str, Any]], SearchStrategy[Any]]] = {
    "uuid": lambda _: st.uuids().map(str),
    "date": lambda _: st.dates(),
    "time-millis": lambda _: _times(_MILLISECOND),
    "time-micros": lambda _: _times(1),
    "timestamp-millis": lambda _: _instants(_MILLISECOND),
    "timestamp-micros": lambda _: _instants(1),
    "local-timestamp-millis": lambda _: _local_instants(_MILLISECOND),
    "local-timestamp-micros": lambda _: _local_instants(1),
    "decimal": _decimals,
}
