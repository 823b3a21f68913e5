import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import parse_schema

from connectors.ids import event_id_for
from schemas.catalog import DEFAULT_DIRECTORY, SchemaCatalog, default_catalog, schema_fingerprint
from schemas.errors import SchemaLoadError, UnknownSchemaError
from streams.domain.institutions import load_institutions

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


#: The lifecycle events of DOMAIN.md, in lifecycle order.
LIFECYCLE = (
    "ReportReceived",
    "ReportRegistered",
    "ReportRejected",
    "VerificationCompleted",
    "ReferralForwarded",
    "ClarificationRequested",
    "ClarificationReceived",
    "RecommendationIssued",
    "ExaminationHeld",
    "SanctionImposed",
    "DeadlineBreached",
    "PersonnelDataBlocked",
    "PersonnelDataUnblocked",
    "ObjectionFiled",
    "AppealFiled",
    "AppealDecided",
    "CaseClosed",
    "PersonalDataErased",
)


#: The parties told of a closing: every role that can be party to a case but the ministries.
CLOSED_CONSUMERS = default_catalog().consumed_by("CaseClosed")


def test_messages(catalog: SchemaCatalog) -> None:
    assert catalog.names() == tuple(
        sorted(
            (
                "kawal.AuditEntry",
                "kawal.DeadLetter",
                "kawal.Receipt",
                "kawal.SignedEvent",
                "kawal.TreeHead",
                *(f"kawal.events.{e}" for e in LIFECYCLE),
            )
        )
    )


def test_event_types(catalog: SchemaCatalog) -> None:
    assert catalog.event_types() == tuple(sorted(LIFECYCLE))


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


EVENT_FILES = [path for path in AVSC_FILES if path.name.startswith("kawal.events.")]
ROLES = {
    symbol.lower()
    for symbol in json.loads((DEFAULT_DIRECTORY / "kawal.InstitutionRole.avsc").read_text())[
        "symbols"
    ]
    if symbol != "UNKNOWN"
}
FREE_TEXT = {"summary", "explanation", "findings", "questions", "grounds", "considerations"}


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda path: path.name)
def test_every_event_starts_with_the_envelope(path: Path) -> None:
    first = json.loads(path.read_text())["fields"][0]

    assert (first["name"], first["type"]) == ("envelope", "kawal.Envelope")


@pytest.mark.parametrize("event", LIFECYCLE)
def test_every_event_names_known_roles(catalog: SchemaCatalog, event: str) -> None:
    assert catalog.emitted_by(event)
    assert catalog.consumed_by(event)
    assert set(catalog.emitted_by(event)) | set(catalog.consumed_by(event)) <= ROLES


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda path: path.name)
def test_role_attributes_survive_parsing(catalog: SchemaCatalog, path: Path) -> None:
    raw = json.loads(path.read_text())

    assert catalog.emitted_by(path.stem) == tuple(raw["kawal.emitted_by"])
    assert catalog.consumed_by(path.stem) == tuple(raw["kawal.consumed_by"])


@pytest.mark.parametrize(
    ("event", "emitted_by", "consumed_by"),
    [
        (
            "ReportReceived",
            {"election_supervisor", "personnel_agency", "regional_inspectorate"},
            {"election_supervisor", "recommending_authority"},
        ),
        ("ReferralForwarded", {"election_supervisor"}, {"recommending_authority"}),
        (
            "RecommendationIssued",
            {"recommending_authority"},
            {"ppk", "personnel_agency", "regional_inspectorate", "election_supervisor"},
        ),
        (
            "SanctionImposed",
            {"ppk"},
            {"personnel_agency", "election_supervisor", "recommending_authority"},
        ),
        ("DeadlineBreached", {"hub"}, {"recommending_authority", "personnel_agency", "ministry"}),
        ("PersonnelDataBlocked", {"personnel_agency"}, {"ppk", "recommending_authority"}),
        ("AppealDecided", {"appeals_body"}, None),
        ("CaseClosed", {"recommending_authority"}, None),
        # Every party that may hold personal data of the case learns it is gone.
        ("PersonalDataErased", {"hub"}, set(CLOSED_CONSUMERS)),
    ],
)
def test_roles_follow_the_lifecycle_table(
    catalog: SchemaCatalog, event: str, emitted_by: set[str], consumed_by: set[str] | None
) -> None:
    assert set(catalog.emitted_by(event)) == emitted_by
    if consumed_by is not None:
        assert set(catalog.consumed_by(event)) == consumed_by


def test_other_messages_have_no_roles(catalog: SchemaCatalog) -> None:
    assert catalog.emitted_by("kawal.AuditEntry") == ()
    assert catalog.consumed_by("kawal.DeadLetter") == ()


def test_malformed_role_attribute_is_a_load_error(tmp_path: Path) -> None:
    record = {
        "type": "record",
        "name": "Thing",
        "namespace": "kawal",
        "doc": "A thing.",
        "kawal.emitted_by": "ppk",
        "fields": [{"name": "x", "type": "int", "doc": "x."}],
    }
    (tmp_path / "kawal.Thing.avsc").write_text(json.dumps(record))

    with pytest.raises(SchemaLoadError, match=r"kawal\.emitted_by must be a list"):
        SchemaCatalog(tmp_path)


def test_record_doc(catalog: SchemaCatalog) -> None:
    assert "PP 79/2021" in catalog.record_doc("AppealFiled")
    assert catalog.record_doc("kawal.Verdict").startswith("Outcome of the verification")


def test_fields_describe_types_defaults_and_personal_data(catalog: SchemaCatalog) -> None:
    fields = {field.name: field for field in catalog.fields("ReportReceived")}

    assert catalog.fields("ReportReceived")[0].name == "envelope"
    assert fields["envelope"].type == "kawal.Envelope"
    assert fields["discovered_on"].type == "date"
    assert fields["violation"].type == "kawal.ViolationCategory"
    identity = fields["reporter_identity"]
    assert (identity.type, identity.personal_data) == ("null | string", True)
    assert (identity.has_default, identity.default) == (True, None)
    assert not fields["case_number"].has_default
    assert not fields["reporter_ref"].personal_data
    assert all(field.doc for field in fields.values())


def test_fields_name_nested_and_repeated_types(catalog: SchemaCatalog) -> None:
    examination = {field.name: field for field in catalog.fields("ExaminationHeld")}
    team = {field.name: field for field in catalog.fields("kawal.ExaminationTeam")}
    decided = {field.name: field for field in catalog.fields("AppealDecided")}

    assert examination["examination_team"].type == "kawal.ExaminationTeam"
    assert (team["member_refs"].type, team["member_refs"].default) == ("array<string>", [])
    assert decided["amended_sanction"].type == "null | kawal.Sanction"
    assert decided["remedy_event_id"].type == "uuid"


def test_fields_of_an_enum_is_an_error(catalog: SchemaCatalog) -> None:
    with pytest.raises(ValueError, match="enum, not a record"):
        catalog.fields("kawal.Verdict")


@pytest.mark.parametrize("event", LIFECYCLE)
def test_free_text_and_identity_fields_are_personal_data(
    catalog: SchemaCatalog, event: str
) -> None:
    for field in catalog.fields(event):
        if field.name in FREE_TEXT or field.name.endswith(("_nip", "_name", "_identity")):
            assert field.personal_data, f"{event}.{field.name}"


def test_personal_data_of_new_events(catalog: SchemaCatalog) -> None:
    assert catalog.personal_data_fields("PersonnelDataBlocked") == ("subject_nip",)
    assert set(catalog.personal_data_fields("AppealFiled")) == {"appellant_nip", "grounds"}
    assert catalog.personal_data_fields("DeadlineBreached") == ()


def test_uuid_fields_include_nullable_unions(catalog: SchemaCatalog) -> None:
    assert "merged_into_case_id" in catalog.uuid_fields("CaseClosed")
    assert "caused_by_event_id" in catalog.uuid_fields("DeadlineBreached")


def test_violation_category_only_grew_at_the_end(catalog: SchemaCatalog) -> None:
    released = [
        "UNKNOWN",
        "ETHICS_BANNER",
        "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
        "ETHICS_ATTEND_DECLARATION_SUPPORT",
        "ETHICS_CAMPAIGN_ACCOUNT_INTERACTION",
        "ETHICS_PHOTO_WITH_CANDIDATE",
        "ETHICS_CAMPAIGN_EVENT",
        "ETHICS_SPOUSE_DECLARATION",
        "DISCIPLINE_PARTISAN_SUPPORT",
    ]
    symbols = catalog.schema("kawal.ViolationCategory")["symbols"]

    assert symbols[: len(released)] == released
    assert len([s for s in symbols if s.startswith("DISCIPLINE_")]) == 13


@pytest.mark.parametrize("path", ENUM_FILES, ids=lambda path: path.name)
def test_enums_start_with_unknown(path: Path) -> None:
    assert json.loads(path.read_text())["symbols"][0] == "UNKNOWN"


@pytest.mark.parametrize("name", default_catalog().names())
def test_schema_json_stands_alone(catalog: SchemaCatalog, name: str) -> None:
    text = catalog.schema_json(name)
    parsed = parse_schema(json.loads(text))

    assert isinstance(parsed, dict)
    assert schema_fingerprint(parsed) == catalog.fingerprint(name)
    assert "__fastavro" not in text
    assert catalog.record_doc(name) in text


def test_institution_registry_uses_the_schema_role_names() -> None:
    assert {institution.role for institution in load_institutions()} <= ROLES


def test_the_event_id_doc_allows_the_ids_the_reference_connectors_send(
    catalog: SchemaCatalog,
) -> None:
    """A client told 'UUIDv4' draws a new id on each resend, and the hub cannot see the repeat."""
    [event_id] = [f for f in catalog.fields("kawal.Envelope") if f.name == "event_id"]
    sent = uuid.UUID(event_id_for("bawaslu.33", "post-17", "ReportReceived"))

    assert f"UUIDv{sent.version}" in event_id.doc
    assert "UUIDv4" not in event_id.doc
    assert "the same event sent again with the same id is recognised" in event_id.doc
