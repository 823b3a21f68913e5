"""Avro schema resolution and compatibility modes, on small schemas built here.

Each case is one schema change, old -> new, judged under FULL_TRANSITIVE: the new version must
read what the old one wrote (backward) and the old version what the new one writes (forward).
The ids say why a case is legal or illegal.
"""

import doctest
from types import ModuleType
from typing import Any

import pytest

from schemas import compat, golden, release_store, resolution
from schemas.compat import (
    Compatibility,
    Direction,
    IncompatibilityKind,
    SchemaInputError,
    check_compatibility,
    incompatibilities,
)
from schemas.errors import KawalError

BACKWARD = frozenset({Direction.BACKWARD})
FORWARD = frozenset({Direction.FORWARD})
BOTH = BACKWARD | FORWARD


def report(*fields: dict[str, Any], name: str = "Report", **attributes: Any) -> dict[str, Any]:
    """A small message record in namespace kawal.test."""
    schema = {"type": "record", "name": name, "namespace": "kawal.test", "fields": list(fields)}
    return schema | attributes


def field(name: str, type_: Any, **attributes: Any) -> dict[str, Any]:
    return {"name": name, "type": type_} | attributes


def enum(*symbols: str, **attributes: Any) -> dict[str, Any]:
    return {"type": "enum", "name": "Kind", "symbols": list(symbols)} | attributes


def fixed(size: int, name: str = "Digest") -> dict[str, Any]:
    return {"type": "fixed", "name": name, "size": size}


def millis(logical: str = "timestamp-millis") -> dict[str, Any]:
    return {"type": "long", "logicalType": logical}


def envelope(source_type: str) -> dict[str, Any]:
    return {
        "type": "record",
        "name": "Envelope",
        "fields": [field("event_id", "string"), field("source", source_type)],
    }


CASE_ID = field("case_id", "string")
OPTIONAL_NOTE = field("note", ["null", "string"], default=None)
ATTACHMENT = {"type": "record", "name": "Attachment", "fields": [field("sha256", "string")]}

# (old, new, directions that break, location of the first incompatibility)
ILLEGAL = [
    pytest.param(
        report(CASE_ID, field("note", "string")),
        report(CASE_ID),
        FORWARD,
        "Report.note",
        id="remove_field_without_default-old_readers_need_it",
    ),
    pytest.param(
        report(CASE_ID),
        report(CASE_ID, field("note", "string")),
        BACKWARD,
        "Report.note",
        id="add_field_without_default-old_data_lacks_it",
    ),
    pytest.param(
        report(field("case_id", "string")),
        report(field("case_id", "int")),
        BOTH,
        "Report.case_id",
        id="change_type_string_to_int",
    ),
    pytest.param(
        report(field("note", "string")),
        report(field("remark", "string")),
        BOTH,
        "Report.remark",
        id="rename_field_without_alias",
    ),
    pytest.param(
        report(field("note", "string")),
        report(field("remark", "string", aliases=["note"])),
        FORWARD,
        "Report.note",
        id="rename_field_with_alias-old_readers_still_need_note",
    ),
    pytest.param(
        report(field("kind", enum("A", "B", "C"))),
        report(field("kind", enum("A", "B"))),
        BACKWARD,
        "Report.kind",
        id="remove_enum_symbol-enum_without_default",
    ),
    pytest.param(
        report(field("kind", enum("A", "B"))),
        report(field("kind", enum("A", "B", "C"))),
        FORWARD,
        "Report.kind",
        id="add_enum_symbol-enum_without_default",
    ),
    pytest.param(
        report(field("digest", fixed(32))),
        report(field("digest", fixed(16))),
        BOTH,
        "Report.digest",
        id="change_fixed_size",
    ),
    pytest.param(
        report(field("digest", fixed(32))),
        report(field("digest", fixed(32, name="Sha256"))),
        BOTH,
        "Report.digest",
        id="rename_fixed_without_alias",
    ),
    pytest.param(
        report(field("value", ["null", "string", "int"], default=None)),
        report(field("value", ["null", "string"], default=None)),
        BACKWARD,
        "Report.value",
        id="narrow_union-remove_branch",
    ),
    pytest.param(
        report(field("note", "string")),
        report(field("note", ["null", "string"], default=None)),
        FORWARD,
        "Report.note",
        id="make_field_optional-old_readers_cannot_read_null",
    ),
    pytest.param(
        report(field("count", "long")),
        report(field("count", "int")),
        BACKWARD,
        "Report.count",
        id="demote_long_to_int",
    ),
    pytest.param(
        report(field("count", "int")),
        report(field("count", "long")),
        FORWARD,
        "Report.count",
        id="promote_int_to_long-backward_only",
    ),
    pytest.param(
        report(field("ratio", "float")),
        report(field("ratio", "double")),
        FORWARD,
        "Report.ratio",
        id="promote_float_to_double-backward_only",
    ),
    pytest.param(
        report(CASE_ID),
        report(CASE_ID, name="CaseReport"),
        BOTH,
        "CaseReport",
        id="rename_record_without_alias",
    ),
    pytest.param(
        report(CASE_ID),
        report(CASE_ID, name="CaseReport", aliases=["Report"]),
        FORWARD,
        "Report",
        id="rename_record_with_alias-old_readers_know_only_the_old_name",
    ),
    pytest.param(
        report(CASE_ID),
        report(CASE_ID, namespace="kawal.other"),
        BOTH,
        "Report",
        id="change_namespace_without_alias-full_names_must_match",
    ),
    pytest.param(
        report(field("at", millis())),
        report(field("at", millis("timestamp-micros"))),
        BOTH,
        "Report.at",
        id="change_logical_type-same_long_other_meaning",
    ),
    pytest.param(
        report(field("case_id", "string")),
        report(field("case_id", {"type": "string", "logicalType": "uuid"})),
        BOTH,
        "Report.case_id",
        id="add_logical_type_to_plain_string",
    ),
    pytest.param(
        report(field("amount", {"type": "bytes", "logicalType": "decimal", "precision": 9})),
        report(
            field(
                "amount",
                {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
            )
        ),
        BOTH,
        "Report.amount",
        id="change_decimal_scale",
    ),
    pytest.param(
        report(field("tags", {"type": "array", "items": "string"})),
        report(field("tags", {"type": "array", "items": "int"})),
        BOTH,
        "Report.tags[]",
        id="change_array_item_type",
    ),
    pytest.param(
        report(field("scores", {"type": "map", "values": "string"})),
        report(field("scores", {"type": "map", "values": "boolean"})),
        BOTH,
        "Report.scores{}",
        id="change_map_value_type",
    ),
    pytest.param(
        report(field("envelope", envelope("string"))),
        report(field("envelope", envelope("int"))),
        BOTH,
        "Report.envelope.source",
        id="change_nested_record_field_type",
    ),
]

# (old, new): compatible both ways with every earlier version.
LEGAL = [
    pytest.param(report(CASE_ID), report(CASE_ID, OPTIONAL_NOTE), id="add_optional_field"),
    pytest.param(
        report(CASE_ID),
        report(CASE_ID, field("follow_up_days", "int", default=14)),
        id="add_field_with_non_null_default",
    ),
    pytest.param(
        report(CASE_ID, field("follow_up_days", "int", default=14)),
        report(CASE_ID),
        id="remove_field_that_had_default-old_readers_use_it",
    ),
    pytest.param(
        report(field("kind", enum("UNKNOWN", "A", default="UNKNOWN"))),
        report(field("kind", enum("UNKNOWN", "A", "B", default="UNKNOWN"))),
        id="add_enum_symbol-enum_default_catches_it",
    ),
    pytest.param(
        report(field("kind", enum("UNKNOWN", "A", "B", default="UNKNOWN"))),
        report(field("kind", enum("UNKNOWN", "A", default="UNKNOWN"))),
        id="remove_enum_symbol-enum_default_catches_it",
    ),
    pytest.param(
        report(field("kind", enum("A", "B"))),
        report(field("kind", enum("B", "A"))),
        id="reorder_enum_symbols-resolved_by_name",
    ),
    pytest.param(report(CASE_ID), report(CASE_ID, doc="A report."), id="add_doc"),
    pytest.param(report(CASE_ID), report(CASE_ID, aliases=["OldReport"]), id="add_record_alias"),
    pytest.param(
        report(CASE_ID, OPTIONAL_NOTE),
        report(OPTIONAL_NOTE, CASE_ID),
        id="reorder_fields-resolved_by_name",
    ),
    pytest.param(
        report(CASE_ID, field("follow_up_days", "int", default=14)),
        report(CASE_ID, field("follow_up_days", "int", default=10)),
        id="change_default_value",
    ),
    pytest.param(
        report(CASE_ID),
        report(CASE_ID, field("attachment", ["null", ATTACHMENT], default=None)),
        id="add_record_type_via_optional_union_field",
    ),
    pytest.param(
        report(field("value", ["string", "int"])),
        report(field("value", ["int", "string"])),
        id="reorder_union_branches-resolved_by_type",
    ),
    pytest.param(
        report(field("value", ["null", "long"], default=None)),
        report(field("value", ["null", "long", "int"], default=None)),
        id="widen_union_with_branch_old_readers_promote",
    ),
    pytest.param(
        report(field("payload", "string")),
        report(field("payload", "bytes")),
        id="string_to_bytes-promotes_both_ways_by_spec",
    ),
    pytest.param(
        report(field("note", "string", default="")),
        report(field("remark", "string", aliases=["note"], default="")),
        id="rename_field_with_alias_and_defaults_on_both_sides",
    ),
    pytest.param(
        report(CASE_ID),
        report(field("case_id", "string", **{"kawal.personal_data": True})),
        id="add_custom_attribute",
    ),
]


@pytest.mark.parametrize(("old", "new", "breaks", "location"), ILLEGAL)
def test_illegal_change_is_rejected(
    old: dict[str, Any], new: dict[str, Any], breaks: frozenset[Direction], location: str
) -> None:
    violations = check_compatibility(new, [old], Compatibility.FULL_TRANSITIVE)
    assert {v.direction for v in violations} == breaks
    assert violations[0].incompatibility.location == location
    assert all(v.earlier == 0 for v in violations)


@pytest.mark.parametrize(("old", "new"), LEGAL)
def test_legal_change_is_accepted(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert check_compatibility(new, [old], Compatibility.FULL_TRANSITIVE) == []


@pytest.mark.parametrize(
    ("old", "new"),
    # Generated bytes are not UTF-8 on purpose: the gate's record check rejects this case.
    [case for case in LEGAL if case.id != "string_to_bytes-promotes_both_ways_by_spec"],
)
def test_legal_change_reads_with_fastavro_both_ways(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    golden.roundtrip(old, new, golden.generate(old))
    golden.roundtrip(new, old, golden.generate(new))


def test_transitive_mode_checks_every_earlier_version() -> None:
    v1 = report(CASE_ID, field("note", "string"))
    v2 = report(CASE_ID, field("note", "string", default=""))  # compatible with v1
    v3 = report(CASE_ID)  # v2 readers fall back to the default; v1 readers have none
    assert check_compatibility(v2, [v1]) == []
    assert check_compatibility(v3, [v1, v2], Compatibility.FULL) == []
    violations = check_compatibility(v3, [v1, v2], Compatibility.FULL_TRANSITIVE)
    assert [(v.earlier, v.direction) for v in violations] == [(0, Direction.FORWARD)]
    assert violations[0].incompatibility.kind is IncompatibilityKind.MISSING_DEFAULT


@pytest.mark.parametrize(
    ("mode", "directions"),
    [
        (Compatibility.BACKWARD, BACKWARD),
        (Compatibility.BACKWARD_TRANSITIVE, BACKWARD),
        (Compatibility.FORWARD, FORWARD),
        (Compatibility.FORWARD_TRANSITIVE, FORWARD),
        (Compatibility.FULL, BOTH),
        (Compatibility.FULL_TRANSITIVE, BOTH),
    ],
)
def test_mode_checks_its_directions(mode: Compatibility, directions: frozenset[Direction]) -> None:
    old, new = report(field("id", "string")), report(field("id", "int"))
    assert {v.direction for v in check_compatibility(new, [old], mode)} == directions
    assert mode.directions == tuple(sorted(directions, key=list(Direction).index))


def test_without_earlier_versions_everything_is_compatible() -> None:
    assert check_compatibility(report(CASE_ID), []) == []


def test_finding_names_the_field_and_both_types() -> None:
    [found] = incompatibilities(
        reader=report(field("envelope", envelope("int"))),
        writer=report(field("envelope", envelope("string"))),
    )
    assert found.location == "Report.envelope.source"
    assert found.field_path == "envelope.source"
    assert found.message == "writer type string, reader type int"
    assert found.kind is IncompatibilityKind.TYPE_MISMATCH


def test_writer_union_branch_the_reader_lacks_is_named() -> None:
    [found] = incompatibilities(
        reader=report(field("note", "string")),
        writer=report(field("note", ["null", "string"], default=None)),
    )
    assert found.message.startswith("writer union branch null cannot be read as reader type string")


def test_reader_alias_of_a_full_name_matches_across_namespaces() -> None:
    old = report(CASE_ID, namespace="kawal.old")
    new = report(CASE_ID, namespace="kawal.new", aliases=["kawal.old.Report"])
    assert incompatibilities(reader=new, writer=old) == []


def test_named_type_referenced_twice_is_resolved() -> None:
    schema = report(field("first", fixed(4)), field("second", "kawal.test.Digest"))
    changed = report(field("first", fixed(4)), field("second", "kawal.test.Digest"), doc="x")
    assert incompatibilities(schema, changed) == []


def test_recursive_record_terminates() -> None:
    def node(value_type: str) -> dict[str, Any]:
        next_node = field("next", ["null", "kawal.test.Node"], default=None)
        return report(field("value", value_type), next_node, name="Node")

    assert incompatibilities(node("string"), node("string")) == []
    [found] = incompatibilities(reader=node("int"), writer=node("string"))
    assert found.location == "Node.value"


def test_invalid_schema_is_a_kawal_error_saying_what_to_fix() -> None:
    with pytest.raises(SchemaInputError, match="not valid Avro") as raised:
        incompatibilities(report(CASE_ID), report(field("x", "no.such.Type")))
    assert isinstance(raised.value, KawalError)


@pytest.mark.parametrize(
    "module", [compat, resolution, golden, release_store], ids=lambda module: module.__name__
)
def test_docstring_examples_run(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0
