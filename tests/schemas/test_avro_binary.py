"""The Avro values the hot path writes by hand are fastavro's bytes, and decode back."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.avro_binary import write_bytes, write_long, write_string
from schemas.catalog import default_catalog
from streams.domain.sealing import _array_schema, decode_disclosures, encode_disclosures

CATALOG = default_catalog()


def fastavro_bytes(schema: Any, value: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), value)
    return buffer.getvalue()


@settings(max_examples=300, deadline=None)
@given(value=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_a_long_is_fastavros(value: int) -> None:
    assert write_long(value) == fastavro_bytes("long", value)


@pytest.mark.parametrize("value", [0, 1, 63, 64, 127, 128, 8191, 8192, -1, -64, -65, 2**62])
def test_longs_at_varint_boundaries_are_fastavros(value: int) -> None:
    assert write_long(value) == fastavro_bytes("long", value)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300), text=st.text(max_size=100))
def test_bytes_and_strings_are_fastavros(data: bytes, text: str) -> None:
    assert write_bytes(data) == fastavro_bytes("bytes", data)
    assert write_string(text) == fastavro_bytes("string", text)


disclosures = st.lists(
    st.fixed_dictionaries(
        {"field": st.text(max_size=40), "salt": st.text(max_size=70), "value": st.text()}
    ),
    max_size=70,
)


@settings(max_examples=100, deadline=None)
@given(items=disclosures)
def test_disclosures_are_fastavros_and_decode_back(items: list[dict[str, str]]) -> None:
    written = encode_disclosures(CATALOG, items)
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _array_schema(CATALOG), items)
    assert written == buffer.getvalue()
    assert decode_disclosures(CATALOG, written) == items


def test_a_disclosure_that_does_not_fit_is_refused_as_fastavro_refuses_it() -> None:
    not_a_string: Any = 7
    with pytest.raises((ValueError, TypeError, KeyError)):
        encode_disclosures(
            CATALOG, [{"field": "subject_nip", "salt": "00" * 16, "value": not_a_string}]
        )
    with pytest.raises((ValueError, TypeError, KeyError)):
        encode_disclosures(CATALOG, [{"field": "subject_nip", "salt": "00" * 16}])
