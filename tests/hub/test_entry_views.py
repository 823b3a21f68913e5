"""An entry's audit record and feed views, spliced from one encoding, are the codec's bytes.

Whatever the sizes of the vaulted disclosures and the feed items (varint lengths of one, two
and three bytes), the spliced bytes equal the whole entry encoded by the codec, and decode back
to it. A schema whose last fields are laid out otherwise is refused when the router is made.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.catalog import SchemaCatalog, default_catalog
from schemas.codec import AvroCodec
from streams.hub.entry_views import EntryLayoutError, EntryViews, check_layout

CODEC = AvroCodec(default_catalog())
SCHEMAS = Path(__file__).parents[2] / "schemas" / "avro"


def entry(disclosures: list[dict[str, str]]) -> dict[str, Any]:
    """An entry as the ledger makes it, its disclosures in clear (never encoded so)."""
    return {
        "case_id": "6b0c6f3e-8a0e-5d5b-9a56-3f3f1c1d2e4a",
        "seq": 7,
        "event_id": "0f6b1a8e-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
        "event_type": "ReportReceived",
        "prev_hash": "0" * 64,
        "hash": "ab" * 32,
        "event": b"\xc3\x01" + bytes(range(256)) * 2,
        "recorded_at": datetime(2024, 10, 3, 9, 30, 17, tzinfo=UTC),
        "source_topic": "kawal.inbound.bawaslu",
        "source_partition": 3,
        "source_offset": 4242,
        "disclosures": disclosures,
        "key_id": "bawaslu/0011223344556677",
        "signature": b"\x01" * 64,
        "hub_key_id": "kawal/8899aabbccddeeff",
        "hub_signature": b"\x02" * 64,
    }


DISCLOSURES = [{"field": "subject_nip", "salt": "11" * 16, "value": "199001012015031001"}]
items = st.lists(
    st.fixed_dictionaries(
        {
            "recipient": st.text(max_size=80),
            "key_id": st.text(max_size=80),
            "encapsulated_key": st.binary(max_size=40),
            "sealed_feed_key": st.binary(max_size=200),
            "nonce": st.binary(max_size=12),
            "ciphertext": st.binary(max_size=9000),
        }
    ),
    max_size=3,
)


def encoded(record: dict[str, Any]) -> bytes:
    return CODEC.encode("kawal.AuditEntry", record, checked=False)


def bare(record: dict[str, Any]) -> dict[str, Any]:
    empty: dict[str, Any] = {"sealed_disclosures": [], "vaulted_disclosures": b""}
    return record | empty | {"disclosures": [], "feed_disclosures": []}


@settings(max_examples=60, deadline=None)
@given(vaulted=st.binary(max_size=20_000))
def test_the_audit_record_is_the_codecs(vaulted: bytes) -> None:
    made = entry(DISCLOSURES)
    spliced = EntryViews(CODEC, made).audited(vaulted)
    whole = bare(made) | {"vaulted_disclosures": vaulted}
    assert spliced == encoded(whole)
    assert CODEC.decode(spliced).record["vaulted_disclosures"] == vaulted


@settings(max_examples=60, deadline=None)
@given(shares=items)
def test_a_feed_view_is_the_codecs(shares: list[dict[str, Any]]) -> None:
    made = entry(DISCLOSURES)
    spliced = EntryViews(CODEC, made).feed(shares)
    assert spliced == encoded(bare(made) | {"feed_disclosures": shares})
    assert CODEC.decode(spliced).record["feed_disclosures"] == shares


def test_no_view_shows_the_disclosures_in_clear() -> None:
    views = EntryViews(CODEC, entry(DISCLOSURES))
    for data in (views.audited(b"sealed"), views.feed([])):
        assert CODEC.decode(data).record["disclosures"] == []
        assert b"199001012015031001" not in data


def test_the_bundled_schema_has_the_layout_the_views_write() -> None:
    check_layout(default_catalog())


def changed_catalog(tmp_path: Path, change: Any) -> SchemaCatalog:
    shutil.copytree(SCHEMAS, tmp_path / "avro")
    path = tmp_path / "avro" / "kawal.AuditEntry.avsc"
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema), encoding="utf-8")
    return SchemaCatalog(tmp_path / "avro")


def test_a_field_after_the_feed_disclosures_is_refused(tmp_path: Path) -> None:
    added = {"name": "later", "type": "string", "default": ""}
    catalog = changed_catalog(tmp_path, lambda s: s["fields"].append(added))
    with pytest.raises(EntryLayoutError):
        check_layout(catalog)


def test_reordered_last_fields_are_refused(tmp_path: Path) -> None:
    def swap(schema: dict[str, Any]) -> None:
        schema["fields"][-1], schema["fields"][-2] = schema["fields"][-2], schema["fields"][-1]

    with pytest.raises(EntryLayoutError):
        check_layout(changed_catalog(tmp_path, swap))
