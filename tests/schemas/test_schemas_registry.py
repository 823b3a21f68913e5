import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from schemas.catalog import SchemaCatalog, default_catalog
from schemas.codec import AvroCodec, CodecError, SchemaMismatchError, UnknownSchemaError
from schemas.errors import KawalError
from schemas.registry import (
    SchemaNotRegisteredError,
    SchemaRegistryClient,
    SchemaRegistryError,
    SchemaRegistryUnavailableError,
    SchemaRejectedError,
    subject_for,
)
from tests.event_samples import SUBJECT_NIP, case_closed, personnel_data_blocked
from tests.registry_double import RegistryDouble

BLOCKED = "kawal.events.PersonnelDataBlocked"


@pytest.fixture
def catalog() -> SchemaCatalog:
    return default_catalog()


@pytest.fixture
def registry() -> Iterator[RegistryDouble]:
    with RegistryDouble() as double:
        yield double


@pytest.fixture
def writer(catalog: SchemaCatalog, registry: RegistryDouble) -> AvroCodec:
    return AvroCodec(catalog, registry=SchemaRegistryClient(registry.url, catalog))


@pytest.fixture
def reader(catalog: SchemaCatalog, registry: RegistryDouble) -> AvroCodec:
    """A codec with its own client, so ids are resolved through the registry, not a cache."""
    return AvroCodec(catalog, SchemaRegistryClient(registry.url, catalog))


@pytest.fixture
def closed_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def confluent_id(data: bytes) -> int:
    assert data[0] == 0
    return int.from_bytes(data[1:5], "big")


def test_round_trip_through_the_registry(
    writer: AvroCodec, reader: AvroCodec, registry: RegistryDouble
) -> None:
    record = personnel_data_blocked()

    data = writer.encode("PersonnelDataBlocked", record)
    decoded = reader.decode(data)

    assert confluent_id(data) in registry.state.schemas
    assert decoded.full_name == BLOCKED
    assert decoded.record == record


def test_schema_is_registered_once_under_its_record_name(
    writer: AvroCodec, registry: RegistryDouble
) -> None:
    for _ in range(3):
        writer.encode(BLOCKED, personnel_data_blocked())

    assert registry.posts() == [f"/subjects/{BLOCKED}/versions"]
    assert subject_for(BLOCKED) == BLOCKED


def test_registered_schema_keeps_docs_and_kawal_attributes(
    writer: AvroCodec, registry: RegistryDouble, catalog: SchemaCatalog
) -> None:
    schema_id = confluent_id(writer.encode(BLOCKED, personnel_data_blocked()))

    registered = json.loads(registry.state.schemas[schema_id])

    assert registered["doc"] == catalog.record_doc(BLOCKED)
    assert registered["kawal.emitted_by"] == ["personnel_agency"]


def test_another_client_gets_the_same_id(
    writer: AvroCodec, registry: RegistryDouble, catalog: SchemaCatalog
) -> None:
    first = confluent_id(writer.encode(BLOCKED, personnel_data_blocked()))
    again = SchemaRegistryClient(registry.url, catalog).schema_id_for("PersonnelDataBlocked")

    assert again == first


def test_readers_accept_both_framings(writer: AvroCodec, catalog: SchemaCatalog) -> None:
    record = case_closed()
    plain = AvroCodec(catalog)

    assert writer.decode(plain.encode("CaseClosed", record)).record == record
    assert writer.decode(writer.encode("CaseClosed", record)).record == record


def test_canonical_bytes_stay_single_object(writer: AvroCodec, catalog: SchemaCatalog) -> None:
    record = case_closed()
    single_object = AvroCodec(catalog).encode("CaseClosed", record)

    assert writer.encode_canonical("CaseClosed", record) == single_object
    assert writer.canonical_bytes(writer.encode("CaseClosed", record)) == single_object


def test_record_that_does_not_fit_registers_nothing(
    writer: AvroCodec, registry: RegistryDouble
) -> None:
    record = personnel_data_blocked()
    del record["blocking_reference"]

    with pytest.raises(SchemaMismatchError, match="blocking_reference"):
        writer.encode(BLOCKED, record)

    assert registry.posts() == []


def test_unknown_id_is_an_unknown_schema_error(writer: AvroCodec, reader: AvroCodec) -> None:
    body = writer.encode(BLOCKED, personnel_data_blocked())[5:]

    with pytest.raises(UnknownSchemaError, match="schema id 999 is not in the schema registry"):
        reader.decode(b"\x00" + (999).to_bytes(4, "big") + body)


def test_client_reports_the_registry_error(
    registry: RegistryDouble, catalog: SchemaCatalog
) -> None:
    client = SchemaRegistryClient(registry.url, catalog)

    with pytest.raises(SchemaNotRegisteredError, match="error 40403: Schema not found") as info:
        client.full_name_for(999)

    assert isinstance(info.value, LookupError)


def test_foreign_schema_is_an_unknown_schema_error(
    registry: RegistryDouble, reader: AvroCodec
) -> None:
    foreign = {"type": "record", "name": "Foreign", "namespace": "elsewhere", "fields": []}
    schema_id = registry.register("elsewhere.Foreign", json.dumps(foreign))

    with pytest.raises(UnknownSchemaError, match=r"version of elsewhere\.Foreign .* not in"):
        reader.decode(b"\x00" + schema_id.to_bytes(4, "big"))


def test_another_version_of_a_catalogue_schema_is_refused(
    registry: RegistryDouble, reader: AvroCodec, catalog: SchemaCatalog
) -> None:
    newer = json.loads(catalog.schema_json(BLOCKED))
    newer["fields"].append({"name": "note", "type": "string", "default": ""})
    schema_id = registry.register(BLOCKED, json.dumps(newer))

    with pytest.raises(UnknownSchemaError, match="deploy the writer's schema version"):
        reader.decode(b"\x00" + schema_id.to_bytes(4, "big"))


def test_docs_and_layout_in_the_registry_do_not_matter(
    registry: RegistryDouble, reader: AvroCodec, catalog: SchemaCatalog
) -> None:
    edited = json.loads(catalog.schema_json(BLOCKED))
    edited["doc"] = "Edited in the registry."
    schema_id = registry.register(BLOCKED, json.dumps(edited, indent=4))
    body = AvroCodec(catalog).encode(BLOCKED, personnel_data_blocked())[10:]

    assert reader.decode(b"\x00" + schema_id.to_bytes(4, "big") + body).full_name == BLOCKED


def test_registry_down_on_encode(catalog: SchemaCatalog, closed_url: str) -> None:
    codec = AvroCodec(catalog, registry=SchemaRegistryClient(closed_url, catalog, timeout=2))

    with pytest.raises(SchemaRegistryUnavailableError, match="unreachable") as info:
        codec.encode(BLOCKED, personnel_data_blocked())

    message = str(info.value)
    assert closed_url in message
    assert "start the registry or fix the registry URL" in message
    assert SUBJECT_NIP not in message


def test_registry_down_on_decode(catalog: SchemaCatalog, closed_url: str) -> None:
    codec = AvroCodec(catalog, SchemaRegistryClient(closed_url, catalog, timeout=2))

    with pytest.raises(SchemaRegistryUnavailableError, match="looking up schema id 7"):
        codec.decode(b"\x00\x00\x00\x00\x07\x00")


def test_registry_failing_on_its_side(writer: AvroCodec, registry: RegistryDouble) -> None:
    registry.state.failing = True

    with pytest.raises(SchemaRegistryUnavailableError, match="HTTP 500, error 50001"):
        writer.encode(BLOCKED, personnel_data_blocked())


def test_incompatible_schema_is_rejected(
    writer: AvroCodec, registry: RegistryDouble, catalog: SchemaCatalog
) -> None:
    older = json.loads(catalog.schema_json(BLOCKED))
    older["fields"].pop()
    registry.register(BLOCKED, json.dumps(older))
    registry.state.incompatible_subjects.add(BLOCKED)

    with pytest.raises(SchemaRejectedError, match="HTTP 409, error 409: Schema being registered"):
        writer.encode(BLOCKED, personnel_data_blocked())


@pytest.mark.parametrize("url", ["ftp://registry:8081", "registry:8081", "http://"])
def test_bad_url_says_what_to_write(catalog: SchemaCatalog, url: str) -> None:
    with pytest.raises(SchemaRegistryError, match=r"http://host:port"):
        SchemaRegistryClient(url, catalog)


def test_credentials_never_show(catalog: SchemaCatalog, closed_url: str) -> None:
    url = closed_url.replace("http://", "http://alice:s3cret@") + "/"
    client = SchemaRegistryClient(url, catalog, timeout=2)

    with pytest.raises(SchemaRegistryUnavailableError) as info:
        client.schema_id_for(BLOCKED)

    assert client.url == closed_url
    assert "s3cret" not in str(info.value)


def test_registry_errors_are_kawal_errors_but_not_codec_errors() -> None:
    for error in (SchemaRegistryUnavailableError, SchemaRejectedError, SchemaNotRegisteredError):
        assert issubclass(error, SchemaRegistryError)
    assert issubclass(SchemaRegistryError, KawalError)
    # A registry outage is no fault of the record: it must not be dead-lettered as undecodable.
    assert not issubclass(SchemaRegistryError, CodecError)


def test_double_answers_in_the_registry_error_shape(registry: RegistryDouble) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{registry.url}/schemas/ids/42", timeout=2)

    with info.value as error:
        assert error.code == 404
        assert json.loads(error.read()) == {"error_code": 40403, "message": "Schema not found"}
