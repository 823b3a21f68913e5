"""Avro schema resolution, reader against writer, checked statically.

:func:`incompatibilities` applies the "Schema Resolution" rules of the Avro 1.11 specification
to two schemas: it reports every place where data written with ``writer`` could not be read
with ``reader``, as :class:`Incompatibility` values with a path such as
``ReportReceived.envelope.ingest_time``. :mod:`schemas.compat` builds the compatibility modes
(BACKWARD, FORWARD, FULL and their transitive forms) on it.

Two rules are stricter than the specification, because Kawal's schemas are a contract between
institutions rather than only a wire format:

- named types match by *full* name (or a reader alias of the writer's full name); the
  specification compares unqualified names, so it would let a namespace change pass;
- a changed ``logicalType`` (or decimal scale) over the same bytes is reported: the bytes still
  decode, but they mean something else.

A writer union is checked branch by branch, even though a reader only fails on the branches a
writer actually uses: every branch is part of the contract. The ``bytes`` to ``string``
promotion is allowed as the specification says, although it fails at run time for bytes that
are not UTF-8; the gate's golden records catch that case.

Example:
    >>> old = {"type": "record", "name": "a.R", "fields": [{"name": "x", "type": "int"}]}
    >>> new = {"type": "record", "name": "a.R", "fields": [{"name": "x", "type": "long"}]}
    >>> incompatibilities(reader=new, writer=old)
    []
    >>> [str(found) for found in incompatibilities(reader=old, writer=new)]
    ['R.x: writer type long, reader type int']
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastavro.schema import parse_schema

from schemas.errors import KawalError

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "enum", "fixed"})
#: Writer type -> reader types it is promoted to (Avro 1.11, "Schema Resolution").
_PROMOTIONS = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}


class SchemaInputError(KawalError):
    """A schema handed to the compatibility checker is not a valid Avro schema."""


class IncompatibilityKind(StrEnum):
    """What is wrong at one place of a reader/writer pair."""

    TYPE_MISMATCH = "type_mismatch"
    NAME_MISMATCH = "name_mismatch"
    MISSING_DEFAULT = "missing_default"
    MISSING_ENUM_SYMBOLS = "missing_enum_symbols"
    MISSING_UNION_BRANCH = "missing_union_branch"
    FIXED_SIZE_MISMATCH = "fixed_size_mismatch"
    LOGICAL_TYPE_CHANGED = "logical_type_changed"


@dataclass(frozen=True)
class Incompatibility:
    """One place where the reader cannot read what the writer wrote.

    Attributes:
        kind: the rule that is broken.
        location: dotted path from the reader's top-level type, e.g.
            ``ReportReceived.envelope.source``; ``[]`` marks array items and ``{}`` map values.
        message: what the writer has, what the reader expects, and how to fix it.
    """

    kind: IncompatibilityKind
    location: str
    message: str

    @property
    def field_path(self) -> str:
        """The location without the top-level type: ``envelope.source``; empty at the top."""
        return self.location.partition(".")[2]

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def incompatibilities(reader: Any, writer: Any) -> list[Incompatibility]:
    """Lists every place where data written with ``writer`` cannot be read with ``reader``.

    Args:
        reader: the reader's schema (Avro JSON, or a schema parsed by fastavro).
        writer: the writer's schema.

    Returns:
        The incompatibilities in schema order; empty when the reader reads all the writer writes.

    Raises:
        SchemaInputError: a schema is not valid Avro.
    """
    parsed_reader, parsed_writer = _parse(reader, "reader"), _parse(writer, "writer")
    walk = _Walk(_index(parsed_reader, {}), _index(parsed_writer, {}))
    resolved = walk.reader(parsed_reader)
    walk.check(parsed_reader, parsed_writer, _short_name(resolved))
    return walk.found


def _parse(schema: Any, role: str) -> Any:
    try:
        # A fresh name table per schema: reader and writer may define the same names differently.
        return parse_schema(schema, {})
    except Exception as exc:  # fastavro raises several unrelated types for a bad schema
        raise SchemaInputError(
            f"the {role} schema is not valid Avro ({exc}); fix the schema before checking it"
        ) from exc


def _index(schema: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Maps the full name of every named type a parsed schema defines to its definition."""
    if isinstance(schema, list):
        for branch in schema:
            _index(branch, found)
    elif isinstance(schema, dict):
        kind = schema["type"]
        if kind in _NAMED and schema["name"] not in found:
            found[schema["name"]] = schema
            for record_field in schema.get("fields", ()):
                _index(record_field["type"], found)
        elif kind in ("array", "map"):
            _index(schema["items" if kind == "array" else "values"], found)
        elif not isinstance(kind, str):
            _index(kind, found)
    return found


@dataclass
class _Walk:
    """One reader/writer comparison: the named types of each side and what was found."""

    reader_names: dict[str, Any]
    writer_names: dict[str, Any]
    found: list[Incompatibility] = field(default_factory=list)
    # Record pairs being compared further up the path: a recursive type is compared once.
    stack: set[tuple[str, str]] = field(default_factory=set)

    def reader(self, schema: Any) -> Any:
        return _resolve(schema, self.reader_names)

    def writer(self, schema: Any) -> Any:
        return _resolve(schema, self.writer_names)

    def report(self, kind: IncompatibilityKind, location: str, message: str) -> None:
        self.found.append(Incompatibility(kind, location, message))

    def check(self, reader: Any, writer: Any, path: str) -> None:
        reader, writer = self.reader(reader), self.writer(writer)
        if isinstance(writer, list):
            self._writer_union(reader, writer, path)
        elif isinstance(reader, list):
            self._reader_union(reader, writer, path)
        elif _matches(reader, writer):
            self._same_kind(reader, writer, path)
        else:
            self._mismatch(reader, writer, path)

    def _writer_union(self, reader: Any, branches: list[Any], path: str) -> None:
        for branch in map(self.writer, branches):
            if isinstance(reader, list):
                chosen = self._select(reader, branch)
                if chosen is None:
                    self.report(
                        IncompatibilityKind.MISSING_UNION_BRANCH,
                        path,
                        f"writer union branch {_describe(branch)} matches no branch of reader "
                        f"{_describe(reader)}; keep the branch in the union",
                    )
                else:
                    self.check(chosen, branch, path)
            elif _matches(reader, branch):
                self.check(reader, branch, path)
            else:
                self.report(
                    IncompatibilityKind.TYPE_MISMATCH,
                    path,
                    f"writer union branch {_describe(branch)} cannot be read as reader type "
                    f"{_describe(reader)}; a reader must accept every branch the writer may use",
                )

    def _reader_union(self, branches: list[Any], writer: Any, path: str) -> None:
        chosen = self._select(branches, writer)
        if chosen is None:
            self.report(
                IncompatibilityKind.MISSING_UNION_BRANCH,
                path,
                f"writer type {_describe(writer)} matches no branch of reader "
                f"{_describe(branches)}; keep a branch for it in the union",
            )
        else:
            self.check(chosen, writer, path)

    def _select(self, branches: list[Any], writer: Any) -> Any:
        """The reader branch that reads ``writer``: the first of its kind, else a promotion."""
        candidates = [b for b in map(self.reader, branches) if _matches(b, writer)]
        exact = [b for b in candidates if _kind(b) == _kind(writer)]
        return (exact or candidates or [None])[0]

    def _mismatch(self, reader: Any, writer: Any, path: str) -> None:
        kind = _kind(reader)
        if kind in _NAMED and kind == _kind(writer):
            self.report(
                IncompatibilityKind.NAME_MISMATCH,
                path,
                f"writer {kind} {writer['name']}, reader {kind} {reader['name']}; keep the name, "
                f"or give the reader's {kind} the alias {writer['name']!r}",
            )
        else:
            self.report(
                IncompatibilityKind.TYPE_MISMATCH,
                path,
                f"writer type {_describe(writer)}, reader type {_describe(reader)}",
            )

    def _same_kind(self, reader: Any, writer: Any, path: str) -> None:
        kind = _kind(reader)
        if kind == "record":
            self._record(reader, writer, path)
        elif kind == "enum":
            self._enum(reader, writer, path)
        elif kind == "array":
            self.check(reader["items"], writer["items"], path + "[]")
        elif kind == "map":
            self.check(reader["values"], writer["values"], path + "{}")
        else:
            if kind == "fixed" and reader["size"] != writer["size"]:
                self.report(
                    IncompatibilityKind.FIXED_SIZE_MISMATCH,
                    path,
                    f"writer fixed {writer['name']} has {writer['size']} bytes, reader "
                    f"{reader['size']}; a fixed type never changes size, add a new type instead",
                )
            self._logical(reader, writer, path)

    def _record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        pair = (reader["name"], writer["name"])
        if pair in self.stack:
            return
        self.stack.add(pair)
        written = {f["name"]: f for f in writer["fields"]}
        for reader_field in reader["fields"]:
            location = f"{path}.{reader_field['name']}"
            source = _writer_field(reader_field, written)
            if source is not None:
                self.check(reader_field["type"], source["type"], location)
            elif "default" not in reader_field:
                self.report(
                    IncompatibilityKind.MISSING_DEFAULT,
                    location,
                    f"the writer has no field {reader_field['name']!r} and the reader's field "
                    "has no default; give the field a default (or an alias of the old name)",
                )
        self.stack.discard(pair)

    def _enum(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        unknown = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if unknown and "default" not in reader:
            self.report(
                IncompatibilityKind.MISSING_ENUM_SYMBOLS,
                path,
                f"writer enum {writer['name']} has symbols {', '.join(unknown)} that the reader "
                "lacks, and the reader's enum has no default; give the enum a default symbol "
                "(such as UNKNOWN) before adding or removing symbols",
            )

    def _logical(
        self, reader: dict[str, Any] | str, writer: dict[str, Any] | str, path: str
    ) -> None:
        reader_logical, writer_logical = _logical_type(reader), _logical_type(writer)
        if reader_logical != writer_logical:
            self.report(
                IncompatibilityKind.LOGICAL_TYPE_CHANGED,
                path,
                f"writer logical type {writer_logical or 'none'}, reader logical type "
                f"{reader_logical or 'none'}; the bytes would change meaning, add a new field",
            )
        elif reader_logical == "decimal":
            self._decimal(reader, writer, path)

    def _decimal(self, reader: Any, writer: Any, path: str) -> None:
        reader_scale, writer_scale = reader.get("scale", 0), writer.get("scale", 0)
        if reader_scale != writer_scale or reader["precision"] < writer["precision"]:
            self.report(
                IncompatibilityKind.LOGICAL_TYPE_CHANGED,
                path,
                f"writer decimal({writer['precision']}, {writer_scale}), reader "
                f"decimal({reader['precision']}, {reader_scale}); the scale must stay and the "
                "precision may only grow",
            )


def _resolve(schema: Any, names: dict[str, Any]) -> Any:
    """Replaces a named reference by its definition and unwraps ``{"type": {...}}``."""
    if isinstance(schema, str) and schema not in _PRIMITIVES:
        try:
            return names[schema]
        except KeyError:
            raise SchemaInputError(
                f"the schema refers to {schema!r} but never defines it; inline the type"
            ) from None
    if isinstance(schema, dict) and not isinstance(schema["type"], str):
        return _resolve(schema["type"], names)
    if isinstance(schema, dict) and schema["type"] not in _PRIMITIVES | _NAMED | {"array", "map"}:
        return _resolve(schema["type"], names)  # {"type": "kawal.Envelope"}
    return schema


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    return schema if isinstance(schema, str) else str(schema["type"])


def _matches(reader: Any, writer: Any) -> bool:
    """The specification's "match": same kind and name, or a promotion; contents not compared."""
    reader_kind, writer_kind = _kind(reader), _kind(writer)
    if reader_kind in _NAMED or writer_kind in _NAMED:
        return reader_kind == writer_kind and _name_matches(reader, writer)
    return reader_kind == writer_kind or reader_kind in _PROMOTIONS.get(writer_kind, ())


def _name_matches(reader: dict[str, Any], writer: dict[str, Any]) -> bool:
    return bool(writer["name"] == reader["name"] or writer["name"] in _aliases(reader))


def _aliases(named: dict[str, Any]) -> set[str]:
    """The full names of a named type's aliases; a short alias is in the type's namespace."""
    namespace = named["name"].rpartition(".")[0]
    return {
        alias if "." in alias or not namespace else f"{namespace}.{alias}"
        for alias in named.get("aliases", ())
    }


def _writer_field(reader_field: dict[str, Any], written: dict[str, Any]) -> dict[str, Any] | None:
    """The writer's field a reader field reads: same name, else the first matching alias."""
    for name in (reader_field["name"], *reader_field.get("aliases", ())):
        if name in written:
            found: dict[str, Any] = written[name]
            return found
    return None


def _logical_type(schema: dict[str, Any] | str) -> str | None:
    return schema.get("logicalType") if isinstance(schema, dict) else None


def _short_name(schema: Any) -> str:
    if isinstance(schema, dict) and schema["type"] in _NAMED:
        return str(schema["name"]).rpartition(".")[2]
    return _kind(schema)


def _describe(schema: Any) -> str:
    """Names a type for a message: ``string``, ``long (timestamp-millis)``, ``record a.B``."""
    if isinstance(schema, list):
        return f"union [{', '.join(map(_describe, schema))}]"
    if isinstance(schema, str):
        return schema
    kind = schema["type"]
    if kind in _NAMED:
        return f"{kind} {schema['name']}"
    if kind == "array":
        return f"array<{_describe(schema['items'])}>"
    if kind == "map":
        return f"map<{_describe(schema['values'])}>"
    logical = schema.get("logicalType")
    return f"{kind} ({logical})" if logical else str(kind)
