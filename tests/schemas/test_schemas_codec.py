import datetime as dt
import io
from typing import Any

import fastavro
import pytest

from schemas.catalog import SchemaCatalog, default_catalog
from schemas.codec import (
    AvroCodec,
    BadMagicError,
    CodecError,
    SchemaMismatchError,
    TruncatedMessageError,
    UnknownSchemaError,
)
from schemas.envelope import envelope as make_envelope
from schemas.errors import KawalError
from schemas.identity import case_id_for, new_event_id
from tests.event_samples import LIFECYCLE_SAMPLES

UTC = dt.UTC
SECRET_NIP = "199001012015031001"
SECRET_NAME = "Siti Rahmawati"
SECRET_REPORTER = "Budi Santoso, 081234567890"


def envelope(event_type: str, source: str) -> dict[str, Any]:
    return make_envelope(
        event_id=new_event_id(),
        case_id=case_id_for("bawaslu.3374", "001/LP/2024"),
        event_type=event_type,
        event_time=dt.datetime(2024, 10, 3, 9, 30, 15, 123000, tzinfo=UTC),
        ingest_time=dt.datetime(2024, 10, 3, 9, 30, 16, tzinfo=UTC),
        source=source,
        actor_ref="actor-7f3a",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )


def report_received() -> dict[str, Any]:
    return {
        "envelope": envelope("ReportReceived", "bawaslu.3374"),
        "case_number": "001/LP/2024",
        "election": "pilkada-2024",
        "region_code": "3374",
        "employing_agency": "ppk.3374",
        "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
        "discovered_on": dt.date(2024, 10, 1),
        "summary": "Posted campaign material on a personal account.",
        "subject_nip": SECRET_NIP,
        "subject_name": SECRET_NAME,
        "reporter_ref": "reporter:5f0c2a9e81d4b7360c1e9a2f",
        "reporter_identity": SECRET_REPORTER,
        "channel": "WEB_FORM",
        "evidence": [
            {
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "media_type": "image/jpeg",
                "size_bytes": 48_213,
                "storage_ref": "s3://kawal-evidence/sha256/9f86d081",
            }
        ],
        "evidence_keys": '{"9f86d081": {"key": "AAAA", "name": "spanduk.jpg"}}',
    }


def recommendation_issued() -> dict[str, Any]:
    return {
        "envelope": envelope("RecommendationIssued", "bkn"),
        "authority": "bkn",
        "proven": True,
        "violation": "DISCIPLINE_PARTISAN_SUPPORT",
        "sanction_level": "MEDIUM",
        "sanction_kind": "ALLOWANCE_CUT_25_9_MONTHS",
        "follow_up_days": 14,
    }


def sanction_imposed() -> dict[str, Any]:
    return {
        "envelope": envelope("SanctionImposed", "ppk.3374"),
        "decree_number": "800/123/2024",
        "sanction_level": "HEAVY",
        "sanction_kind": "DEMOTION_12_MONTHS",
        "effective_on": dt.date(2024, 12, 1),
    }


def audit_entry() -> dict[str, Any]:
    return {
        "case_id": case_id_for("bawaslu.3374", "001/LP/2024"),
        "seq": 1,
        "event_id": new_event_id(),
        "event_type": "ReportReceived",
        "prev_hash": "0" * 64,
        "hash": "ab" * 32,
        "event": b"\xc3\x01event-bytes",
        "recorded_at": dt.datetime(2024, 10, 3, 9, 30, 17, tzinfo=UTC),
        "source_topic": "kawal.case.events",
        "source_partition": 3,
        "source_offset": 42,
        "disclosures": [],
        "key_id": "bawaslu.3374/0011223344556677",
        "signature": b"\x01" * 64,
        "hub_key_id": "kawal/8899aabbccddeeff",
        "hub_signature": b"\x02" * 64,
        "sealed_disclosures": [
            {
                "recipient": "bkn",
                "key_id": "bkn/enc-0001",
                "encapsulated_key": b"\x03" * 32,
                "ciphertext": b"\x04" * 48,
            }
        ],
        "vaulted_disclosures": b"\x05" * 60,
        "feed_disclosures": [
            {
                "recipient": "bkn",
                "key_id": "bkn/enc-0001",
                "encapsulated_key": b"\x06" * 32,
                "sealed_feed_key": b"\x07" * 48,
                "nonce": b"\x08" * 12,
                "ciphertext": b"\x09" * 48,
            }
        ],
    }


def signed_event() -> dict[str, Any]:
    return {
        "format": 2,
        "event": b"\xc3\x01event-bytes",
        "key_id": "bawaslu.3374/0011223344556677",
        "signature": b"\x01" * 64,
        "disclosures": [],
        "sealed_disclosures": [
            {
                "recipient": "kawal",
                "key_id": "kawal/enc-0001",
                "encapsulated_key": b"\x03" * 32,
                "ciphertext": b"\x04" * 48,
            }
        ],
    }


def dead_letter() -> dict[str, Any]:
    return {
        "stage": "ingress",
        "reason_code": "undecodable",
        "reason": "first byte is 0x7b, expected 0xc3 or 0x00",
        "source_topic": "kawal.inbound.bawaslu.3374",
        "source_partition": 0,
        "source_offset": 9,
        "payload": b"\x06" * 80,
        "rejected_at": dt.datetime(2024, 10, 3, 9, 31, tzinfo=UTC),
        "sealed_to": "kawal/8899aabbccddeeff",
    }


def receipt() -> dict[str, Any]:
    return {
        "status": "REJECTED",
        "event_id": "0b1f3c1e-2a4d-4e6f-8a9b-0c1d2e3f4a5b",
        "case_id": "2b1f3c1e-2a4d-4e6f-8a9b-0c1d2e3f4a5c",
        "event_type": "SanctionImposed",
        "seq": None,
        "hash": None,
        "reason_code": "illegal_transition",
        "reason": "SanctionImposed is not allowed now: the case is referred, not recommended",
        "source_topic": "kawal.inbound.ppk.3374",
        "source_partition": 1,
        "source_offset": 12,
        "issued_at": dt.datetime(2024, 10, 3, 9, 31, tzinfo=UTC),
        "prev_hash": None,
        "recorded_at": None,
        "head_seq": 3,
        "head_hash": "cd" * 32,
        "hub_key_id": "kawal/8899aabbccddeeff",
        "hub_signature": b"\x02" * 64,
    }


def tree_head() -> dict[str, Any]:
    return {
        "tree_size": 5,
        "root_hash": "ef" * 32,
        "issued_at": dt.datetime(2024, 10, 3, 9, 32, tzinfo=UTC),
        "key_id": "kawal/8899aabbccddeeff",
        "signature": b"\x05" * 64,
        "previous_size": 3,
        "consistency": ["01" * 32, "02" * 32],
    }


SAMPLES = {
    "kawal.events.ReportReceived": report_received,
    "kawal.events.RecommendationIssued": recommendation_issued,
    "kawal.events.SanctionImposed": sanction_imposed,
    "kawal.AuditEntry": audit_entry,
    "kawal.DeadLetter": dead_letter,
    "kawal.Receipt": receipt,
    "kawal.SignedEvent": signed_event,
    "kawal.TreeHead": tree_head,
    **LIFECYCLE_SAMPLES,
}


class MappingResolver:
    def __init__(self, ids: dict[int, str]) -> None:
        self._ids = ids

    def full_name_for(self, schema_id: int) -> str:
        return self._ids[schema_id]


@pytest.fixture
def catalog() -> SchemaCatalog:
    return default_catalog()


@pytest.fixture
def codec(catalog: SchemaCatalog) -> AvroCodec:
    return AvroCodec(catalog)


def test_samples_cover_every_message(catalog: SchemaCatalog) -> None:
    assert set(SAMPLES) == set(catalog.names())


@pytest.mark.parametrize("full_name", sorted(SAMPLES))
def test_round_trip(codec: AvroCodec, full_name: str) -> None:
    record = SAMPLES[full_name]()

    decoded = codec.decode(codec.encode(full_name, record))

    assert decoded.full_name == full_name
    assert decoded.record == record


def test_encode_accepts_short_event_name_and_fills_defaults(codec: AvroCodec) -> None:
    record = recommendation_issued()
    del record["follow_up_days"], record["sanction_kind"]
    for optional in ("ingest_time", "traceparent", "signature"):
        del record["envelope"][optional]

    decoded = codec.decode(codec.encode("RecommendationIssued", record))

    assert decoded.record["follow_up_days"] == 14
    assert decoded.record["sanction_kind"] is None
    assert decoded.record["envelope"]["ingest_time"] is None


def test_single_object_header(codec: AvroCodec, catalog: SchemaCatalog) -> None:
    data = codec.encode("ReportReceived", report_received())

    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == catalog.fingerprint("kawal.events.ReportReceived")


def test_encode_is_deterministic(codec: AvroCodec) -> None:
    record = report_received()

    assert codec.encode("ReportReceived", record) == codec.encode("ReportReceived", dict(record))


def test_same_instant_in_another_zone_encodes_identically(codec: AvroCodec) -> None:
    record = report_received()
    wib = dt.timezone(dt.timedelta(hours=7))
    shifted = {**record, "envelope": dict(record["envelope"])}
    shifted["envelope"]["event_time"] = record["envelope"]["event_time"].astimezone(wib)

    assert codec.encode("ReportReceived", shifted) == codec.encode("ReportReceived", record)


def test_decoded_timestamps_are_utc_aware(codec: AvroCodec) -> None:
    decoded = codec.decode(codec.encode("ReportReceived", report_received()))

    assert decoded.record["envelope"]["event_time"].utcoffset() == dt.timedelta(0)


def test_canonical_bytes_of_single_object_are_unchanged(codec: AvroCodec) -> None:
    data = codec.encode("SanctionImposed", sanction_imposed())

    assert codec.canonical_bytes(data) == data


def test_canonical_bytes_of_confluent_frame_is_single_object(catalog: SchemaCatalog) -> None:
    codec = AvroCodec(catalog, MappingResolver({7: "kawal.events.SanctionImposed"}))
    single_object = codec.encode("SanctionImposed", sanction_imposed())
    confluent = b"\x00" + (7).to_bytes(4, "big") + single_object[10:]

    assert codec.canonical_bytes(confluent) == single_object


def test_confluent_round_trip_with_resolver(catalog: SchemaCatalog) -> None:
    codec = AvroCodec(catalog, MappingResolver({1234: "kawal.events.ReportReceived"}))
    record = report_received()
    body = codec.encode("ReportReceived", record)[10:]

    decoded = codec.decode(b"\x00" + (1234).to_bytes(4, "big") + body)

    assert decoded.full_name == "kawal.events.ReportReceived"
    assert decoded.record == record


def test_confluent_without_resolver_asks_for_registry(codec: AvroCodec) -> None:
    body = codec.encode("ReportReceived", report_received())[10:]

    with pytest.raises(UnknownSchemaError, match="registry") as info:
        codec.decode(b"\x00\x00\x00\x00\x05" + body)

    assert "schema id 5" in str(info.value)


def test_confluent_unknown_id(catalog: SchemaCatalog) -> None:
    codec = AvroCodec(catalog, MappingResolver({}))

    with pytest.raises(UnknownSchemaError, match="schema id 99"):
        codec.decode(b"\x00\x00\x00\x00\x63\x00")


def test_unknown_fingerprint(codec: AvroCodec) -> None:
    data = codec.encode("kawal.DeadLetter", dead_letter())
    forged = data[:2] + bytes(8) + data[10:]

    with pytest.raises(UnknownSchemaError, match="0000000000000000"):
        codec.decode(forged)


@pytest.mark.parametrize("data", [b"{}", b"\x7b\x22a\x22", b"\xc3\x02" + bytes(8)])
def test_bad_magic(codec: AvroCodec, data: bytes) -> None:
    with pytest.raises(BadMagicError, match="expected 0xc3"):
        codec.decode(data)


@pytest.mark.parametrize("length", [0, 1, 5, 9])
def test_truncated_header(codec: AvroCodec, length: int) -> None:
    data = codec.encode("kawal.DeadLetter", dead_letter())

    with pytest.raises(TruncatedMessageError):
        codec.decode(data[:length])


def test_truncated_confluent_header(catalog: SchemaCatalog) -> None:
    codec = AvroCodec(catalog, MappingResolver({}))

    with pytest.raises(TruncatedMessageError, match="Confluent header needs 5 bytes"):
        codec.decode(b"\x00\x00\x01")


@pytest.mark.parametrize("full_name", sorted(SAMPLES))
def test_truncated_body_at_every_length(codec: AvroCodec, full_name: str) -> None:
    data = codec.encode(full_name, SAMPLES[full_name]())

    for length in range(10, len(data)):
        with pytest.raises(TruncatedMessageError, match="body ends early"):
            codec.decode(data[:length])


def test_trailing_bytes(codec: AvroCodec) -> None:
    data = codec.encode("kawal.DeadLetter", dead_letter())

    with pytest.raises(SchemaMismatchError, match="2 bytes left"):
        codec.decode(data + b"\x00\x00")


def test_body_written_with_another_schema(codec: AvroCodec, catalog: SchemaCatalog) -> None:
    body = codec.encode("kawal.DeadLetter", dead_letter())[10:]
    header = b"\xc3\x01" + catalog.fingerprint("kawal.events.ReportReceived")

    with pytest.raises(
        SchemaMismatchError, match=r"does not decode as kawal\.events\.ReportReceived"
    ):
        codec.decode(header + body)


def test_wrong_type_is_a_schema_mismatch(codec: AvroCodec) -> None:
    record = recommendation_issued()
    record["proven"] = "yes"

    with pytest.raises(SchemaMismatchError, match=r"RecommendationIssued\.proven"):
        codec.encode("RecommendationIssued", record)


def test_missing_field_is_a_schema_mismatch(codec: AvroCodec) -> None:
    record = sanction_imposed()
    del record["decree_number"]

    with pytest.raises(SchemaMismatchError, match="decree_number"):
        codec.encode("SanctionImposed", record)


def test_unknown_enum_symbol_is_a_schema_mismatch(codec: AvroCodec) -> None:
    record = sanction_imposed()
    record["sanction_kind"] = "PUBLIC_SHAMING"

    with pytest.raises(SchemaMismatchError, match="sanction_kind"):
        codec.encode("SanctionImposed", record)


def test_extra_field_is_a_schema_mismatch(codec: AvroCodec) -> None:
    record = dead_letter()
    record["note"] = "not in the schema"

    with pytest.raises(SchemaMismatchError, match="note"):
        codec.encode("kawal.DeadLetter", record)


def test_naive_datetime_is_rejected(codec: AvroCodec) -> None:
    record = dead_letter()
    record["rejected_at"] = dt.datetime(2024, 10, 3, 9, 31)  # noqa: DTZ001 - the case under test

    with pytest.raises(SchemaMismatchError, match="naive datetime at rejected_at"):
        codec.encode("kawal.DeadLetter", record)


@pytest.mark.parametrize("bad", ["not-a-uuid", "6F9619FF-8B86-D011-B42D-00C04FC964FF"])
def test_non_canonical_uuid_is_rejected(codec: AvroCodec, bad: str) -> None:
    record = audit_entry()
    record["event_id"] = bad

    with pytest.raises(SchemaMismatchError, match=r"event_id must be a uuid\.UUID"):
        codec.encode("kawal.AuditEntry", record)


def _unchecked_with_event_id(codec: AvroCodec, event_id: str) -> bytes:
    """An AuditEntry whose event_id another producer wrote without checking it."""
    record = audit_entry()
    record["event_id"] = event_id
    return codec.encode("kawal.AuditEntry", record, checked=False)


def test_upper_case_uuids_read_back_in_canonical_form(codec: AvroCodec) -> None:
    data = _unchecked_with_event_id(codec, "6F9619FF-8B86-D011-B42D-00C04FC964FF")

    assert codec.decode(data).record["event_id"] == "6f9619ff-8b86-d011-b42d-00c04fc964ff"


def test_a_uuid_field_holding_no_uuid_is_undecodable(codec: AvroCodec) -> None:
    data = _unchecked_with_event_id(codec, "not-a-uuid")

    with pytest.raises(SchemaMismatchError, match=r"does not decode as kawal\.AuditEntry"):
        codec.decode(data)


def test_encode_unknown_name_lists_known(codec: AvroCodec) -> None:
    with pytest.raises(UnknownSchemaError, match="ReportReceived"):
        codec.encode("ReportFiled", {})


def test_envelope_alone_is_not_a_message(codec: AvroCodec) -> None:
    with pytest.raises(UnknownSchemaError, match="never travels alone"):
        codec.encode("kawal.Envelope", envelope("ReportReceived", "bkn"))


def test_codec_errors_share_the_kawal_root() -> None:
    for error in (UnknownSchemaError, BadMagicError, TruncatedMessageError, SchemaMismatchError):
        assert issubclass(error, CodecError)
    assert issubclass(CodecError, KawalError)


@pytest.mark.parametrize(
    ("field", "wrong"),
    [
        ("subject_nip", int(SECRET_NIP)),  # a NIP sent as a number
        ("subject_name", [SECRET_NAME]),
        ("reporter_identity", {"name": SECRET_REPORTER}),
    ],
)
def test_encode_error_never_quotes_personal_data(codec: AvroCodec, field: str, wrong: Any) -> None:
    record = report_received()
    record[field] = wrong

    with pytest.raises(SchemaMismatchError) as info:
        codec.encode("ReportReceived", record)

    message = str(info.value)
    assert field in message
    for secret in (SECRET_NIP, SECRET_NAME, SECRET_REPORTER):
        assert secret not in message
    assert info.value.__suppress_context__


def test_extra_field_error_names_the_key_not_the_value(codec: AvroCodec) -> None:
    record = report_received()
    record["subject_nik"] = "3374010101900001"

    with pytest.raises(SchemaMismatchError, match="subject_nik") as info:
        codec.encode("ReportReceived", record)

    assert "3374010101900001" not in str(info.value)


def test_decode_error_never_quotes_personal_data(codec: AvroCodec) -> None:
    data = codec.encode("ReportReceived", report_received())
    at = data.index(SECRET_NAME.encode()) + 4
    corrupted = data[:at] + b"\xff" + data[at + 1 :]  # invalid UTF-8 inside the name

    with pytest.raises(SchemaMismatchError) as info:
        codec.decode(corrupted)

    for secret in (SECRET_NIP, SECRET_NAME, SECRET_NAME[:4], SECRET_REPORTER):
        assert secret not in str(info.value)
    assert info.value.__suppress_context__


@pytest.mark.parametrize("full_name", sorted(SAMPLES))
def test_unchecked_encoding_writes_the_same_bytes(codec: AvroCodec, full_name: str) -> None:
    record = SAMPLES[full_name]()

    assert codec.encode_canonical(full_name, record, checked=False) == codec.encode_canonical(
        full_name, record
    )


def test_unchecked_encoding_of_a_bad_record_names_no_value(codec: AvroCodec) -> None:
    record = SAMPLES["kawal.events.ReportReceived"]()
    record["subject_nip"] = 199001012015031001  # a number where the schema wants a string

    with pytest.raises(SchemaMismatchError) as raised:
        codec.encode_canonical("ReportReceived", record, checked=False)

    assert "199001012015031001" not in str(raised.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("event_time", 1_733_000_000_000_000), ("event_time", 10**18), ("discovered_on", 10**9)],
)
def test_a_time_out_of_range_says_the_unit_to_write(
    codec: AvroCodec, catalog: SchemaCatalog, field: str, value: int
) -> None:
    """A client writing microseconds (or a huge date) is told the unit, not 'another schema'."""
    record = report_received()
    record["envelope"]["event_time"] = 1_733_000_000_000
    record["discovered_on"] = 20_000
    (record["envelope"] if field == "event_time" else record)[field] = value
    schema = fastavro.parse_schema(catalog.schema("kawal.events.ReportReceived"))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema, record)
    header = b"\xc3\x01" + catalog.fingerprint("kawal.events.ReportReceived")

    with pytest.raises(SchemaMismatchError, match="milliseconds since the Unix epoch") as caught:
        codec.decode(header + body.getvalue())
    assert str(value) not in str(caught.value)
