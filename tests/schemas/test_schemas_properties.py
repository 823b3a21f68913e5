"""Property tests: every catalogue message survives both wire formats, whatever its values."""

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import given, settings

from schemas.catalog import SchemaCatalog, default_catalog
from schemas.codec import AvroCodec, TruncatedMessageError
from schemas.registry import SchemaRegistryClient
from tests.avro_strategies import avro_values, catalog_records
from tests.registry_double import RegistryDouble

#: Per message type, so the whole file stays well under 30 s. No deadline: the first example
#: of a type pays for registering its schema over HTTP.
PROPERTIES = settings(max_examples=50, deadline=None)

EVERYTHING = {
    "type": "record",
    "name": "Everything",
    "namespace": "test",
    "fields": [
        {"name": "flag", "type": "boolean"},
        {"name": "small", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "single", "type": "float"},
        {"name": "double", "type": "double"},
        {"name": "raw", "type": "bytes"},
        {"name": "text", "type": "string"},
        {"name": "nothing", "type": "null"},
        {"name": "four", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "four_again", "type": "Four"},
        {"name": "colour", "type": {"type": "enum", "name": "Colour", "symbols": ["RED", "BLUE"]}},
        {"name": "colours", "type": {"type": "array", "items": "Colour"}},
        {"name": "counts", "type": {"type": "map", "values": ["null", "long"]}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "clock", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "fine_clock", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "fine_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "local_at", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2},
        },
        {"name": "custom", "type": {"type": "string", "logicalType": "made-up"}},
        {"name": "next", "type": ["null", "Everything"]},
    ],
}


@pytest.fixture(scope="module")
def catalog() -> SchemaCatalog:
    return default_catalog()


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryDouble]:
    with RegistryDouble() as double:
        yield double


@pytest.fixture(scope="module")
def writers(catalog: SchemaCatalog, registry: RegistryDouble) -> dict[str, AvroCodec]:
    client = SchemaRegistryClient(registry.url, catalog)
    return {
        "single-object": AvroCodec(catalog),
        "confluent": AvroCodec(catalog, registry=client),
    }


@pytest.fixture(scope="module")
def reader(catalog: SchemaCatalog, registry: RegistryDouble) -> AvroCodec:
    """Reads both framings with its own registry client, as another institution would."""
    return AvroCodec(catalog, SchemaRegistryClient(registry.url, catalog))


@pytest.mark.parametrize("name", default_catalog().names())
def test_every_message_round_trips_in_both_wire_formats(
    catalog: SchemaCatalog, writers: dict[str, AvroCodec], reader: AvroCodec, name: str
) -> None:
    @PROPERTIES
    @given(record=catalog_records(catalog, name))
    def round_trip(record: dict[str, Any]) -> None:
        single_object = writers["single-object"].encode(name, record)
        confluent = writers["confluent"].encode(name, record)

        for data in (single_object, confluent):
            decoded = reader.decode(data)
            assert (decoded.full_name, decoded.record) == (name, record)
        # The hash chain sees the same canonical bytes whatever framing the producer chose.
        assert reader.canonical_bytes(confluent) == single_object

    round_trip()


@pytest.mark.parametrize("name", default_catalog().names())
def test_every_cut_is_reported_as_truncation(
    catalog: SchemaCatalog, writers: dict[str, AvroCodec], name: str
) -> None:
    """Whatever the values, a body cut anywhere reads as truncated, never as another schema."""

    @settings(max_examples=20, deadline=None)
    @given(record=catalog_records(catalog, name))
    def cut_everywhere(record: dict[str, Any]) -> None:
        data = writers["single-object"].encode(name, record)
        for length in range(10, len(data)):
            with pytest.raises(TruncatedMessageError):
                writers["single-object"].decode(data[:length])

    cut_everywhere()


@pytest.mark.parametrize("event", default_catalog().event_types())
def test_generated_events_name_themselves(catalog: SchemaCatalog, event: str) -> None:
    @PROPERTIES
    @given(record=catalog_records(catalog, event))
    def names_itself(record: dict[str, Any]) -> None:
        assert record["envelope"]["event_type"] == event

    names_itself()


def test_strategy_covers_every_avro_type() -> None:
    """The generic walker, on a schema with each type the catalogue does not use yet."""
    schema = parse_schema(json.loads(json.dumps(EVERYTHING)))

    @settings(max_examples=30, deadline=None)
    @given(value=avro_values(schema))
    def round_trip(value: dict[str, Any]) -> None:
        buffer = io.BytesIO()
        schemaless_writer(buffer, schema, value)
        buffer.seek(0)
        # uuids read back as strings: schemas.codec installs that reader for every schema.
        assert schemaless_reader(buffer, schema, None) == value

    round_trip()
