import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import DEFAULT_DIRECTORY, SchemaCatalog, default_catalog
from schemas.errors import SchemaLoadError, UnknownSchemaError

AVSC_FILES = sorted(DEFAULT_DIRECTORY.glob("*.avsc"))
ENUM_FILES = [path for path in AVSC_FILES if json.loads(path.read_text())["type"] == "enum"]


def rabin_fingerprint(data: bytes) -> int:
    """CRC-64-AVRO exactly as the Avro specification prints it, independent of fastavro."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


@pytest.fixture
def catalog() -> SchemaCatalog:
    return default_catalog()


def test_messages(catalog: SchemaCatalog) -> None:
    assert catalog.names() == (
        "kawal.AuditEntry",
        "kawal.DeadLetter",
        "kawal.events.RecommendationIssued",
        "kawal.events.ReportReceived",
        "kawal.events.SanctionImposed",
    )


def test_event_types(catalog: SchemaCatalog) -> None:
    assert catalog.event_types() == ("RecommendationIssued", "ReportReceived", "SanctionImposed")


def test_short_event_name_resolves(catalog: SchemaCatalog) -> None:
    assert catalog.full_name("ReportReceived") == "kawal.events.ReportReceived"
    assert catalog.full_name("kawal.Envelope") == "kawal.Envelope"


def test_unknown_name_lists_the_known_messages(catalog: SchemaCatalog) -> None:
    with pytest.raises(UnknownSchemaError, match=r"kawal\.events\.SanctionImposed"):
        catalog.schema("SanctionRevoked")


def test_named_references_are_resolved(catalog: SchemaCatalog) -> None:
    envelope = catalog.schema("SanctionImposed")["fields"][0]["type"]

    assert envelope["name"] == "kawal.Envelope"
    assert envelope["type"] == "record"


def test_fingerprint_is_little_endian_rabin_of_canonical_form(catalog: SchemaCatalog) -> None:
    # The Avro spec's own test vector pins the independent implementation.
    assert rabin_fingerprint(b'"null"') == 0x63DD24E7CC258F8A

    for name in catalog.names():
        expected = rabin_fingerprint(catalog.canonical_form(name).encode()).to_bytes(8, "little")
        assert catalog.fingerprint(name) == expected


def test_lookup_by_fingerprint(catalog: SchemaCatalog) -> None:
    for name in catalog.names():
        assert catalog.name_for_fingerprint(catalog.fingerprint(name)) == name


def test_fingerprints_are_distinct(catalog: SchemaCatalog) -> None:
    assert len({catalog.fingerprint(name) for name in catalog.names()}) == len(catalog.names())


def test_unknown_fingerprint(catalog: SchemaCatalog) -> None:
    with pytest.raises(UnknownSchemaError, match="ffffffffffffffff"):
        catalog.name_for_fingerprint(b"\xff" * 8)


def test_personal_data_fields_of_report_received(catalog: SchemaCatalog) -> None:
    fields = catalog.personal_data_fields("ReportReceived")

    assert {"subject_nip", "subject_name", "reporter_identity"} <= set(fields)
    assert "reporter_ref" not in fields


def test_personal_data_fields(catalog: SchemaCatalog) -> None:
    assert catalog.personal_data_fields("kawal.DeadLetter") == ("payload",)
    assert catalog.personal_data_fields("kawal.Envelope") == ()


def test_uuid_fields_include_nested_envelope(catalog: SchemaCatalog) -> None:
    assert catalog.uuid_fields("SanctionImposed") == ("envelope.event_id", "envelope.case_id")


def test_default_catalog_is_cached() -> None:
    assert default_catalog() is default_catalog()


@pytest.mark.parametrize("path", AVSC_FILES, ids=lambda path: path.name)
def test_file_is_named_after_its_type(path: Path) -> None:
    raw = json.loads(path.read_text())
    full_name = f"{raw['namespace']}.{raw['name']}" if "namespace" in raw else raw["name"]

    assert path.name == f"{full_name}.avsc"


@pytest.mark.parametrize("path", AVSC_FILES, ids=lambda path: path.name)
def test_every_type_and_field_is_documented(path: Path) -> None:
    raw = json.loads(path.read_text())

    assert raw.get("doc")
    undocumented = [field["name"] for field in raw.get("fields", []) if not field.get("doc")]
    assert undocumented == []


@pytest.mark.parametrize("path", ENUM_FILES, ids=lambda path: path.name)
def test_enums_can_grow(path: Path) -> None:
    raw: dict[str, Any] = json.loads(path.read_text())

    assert raw["default"] == "UNKNOWN"
    assert "UNKNOWN" in raw["symbols"]


def test_file_with_the_wrong_name_is_rejected(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_DIRECTORY / "kawal.SanctionLevel.avsc", tmp_path / "kawal.Level.avsc")

    with pytest.raises(SchemaLoadError, match=r"<full name>\.avsc"):
        SchemaCatalog(tmp_path)


def test_missing_reference_is_a_load_error(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_DIRECTORY / "kawal.events.SanctionImposed.avsc", tmp_path)

    with pytest.raises(SchemaLoadError, match=r"kawal\.events\.SanctionImposed\.avsc"):
        SchemaCatalog(tmp_path)


def test_empty_directory_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError, match=r"no \.avsc files"):
        SchemaCatalog(tmp_path)
