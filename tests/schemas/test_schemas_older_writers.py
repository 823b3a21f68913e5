"""A producer still on an older released schema version is read with the current reader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec, UnknownSchemaError
from schemas.gate import release
from schemas.older_writers import OlderWriters
from schemas.release_store import ReleaseStore
from tests.event_samples import report_registered

AVRO = Path(__file__).resolve().parents[2] / "schemas" / "avro"
NAME = "kawal.events.ReportRegistered"


@pytest.fixture
def evolved(tmp_path: Path) -> tuple[AvroCodec, AvroCodec]:
    """(old producer's codec, current hub codec) after ReportRegistered gained a field."""
    old_dir, new_dir, releases = tmp_path / "old", tmp_path / "new", tmp_path / "releases"
    shutil.copytree(AVRO, old_dir)
    shutil.copytree(AVRO, new_dir)
    schema = json.loads((new_dir / f"{NAME}.avsc").read_text())
    schema["fields"].append(
        {"name": "office_note", "type": ["null", "string"], "default": None, "doc": "Added in v2."}
    )
    (new_dir / f"{NAME}.avsc").write_text(json.dumps(schema))
    release(old_dir, releases)
    release(new_dir, releases)
    store = ReleaseStore(releases)
    old_catalog, new_catalog = SchemaCatalog(old_dir), SchemaCatalog(new_dir)
    return (
        AvroCodec(old_catalog),
        AvroCodec(new_catalog, older_writers=OlderWriters(new_catalog, store)),
    )


def test_current_reader_decodes_an_older_writer(evolved: tuple[AvroCodec, AvroCodec]) -> None:
    old, new = evolved
    record = report_registered()

    decoded = new.decode(old.encode(NAME, record))

    assert decoded.full_name == NAME
    assert decoded.record["office_note"] is None
    assert decoded.record["registration_number"] == record["registration_number"]


def test_unreleased_foreign_fingerprint_is_still_unknown(
    evolved: tuple[AvroCodec, AvroCodec],
) -> None:
    _, new = evolved
    data = b"\xc3\x01" + bytes(8) + b"\x00"

    with pytest.raises(UnknownSchemaError):
        new.decode(data)
