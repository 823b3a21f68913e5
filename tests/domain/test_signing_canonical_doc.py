"""What docs/signing.md tells a sender about canonical forms and ``format``, held true.

The page names how fastavro gives a schema's Parsing Canonical Form and fingerprint, the
vectors' fingerprint, and says that the released ``kawal.SignedEvent`` (whose ``doc`` says
format 1) has the current schema's canonical form: each is recomputed here.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.catalog import default_catalog

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "signing.md").read_text(encoding="utf-8")
VECTORS = json.loads((ROOT / "docs" / "signing-vectors.json").read_text(encoding="utf-8"))


def test_the_fastavro_recipe_gives_the_vectors_fingerprint_the_page_names() -> None:
    event = VECTORS["event"]
    schema = json.loads((ROOT / event["schema_file"]).read_text(encoding="utf-8"))

    given = fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO")

    assert given == event["fingerprint"]
    assert f"fingerprint `{given}`" in PAGE
    assert bytes.fromhex(event["committed_bytes"])[2:10] == bytes.fromhex(given)
    assert 'fastavro.schema.fingerprint(form, "CRC-64-AVRO")' in PAGE


def test_the_released_signed_event_differs_from_the_current_one_in_its_doc_only() -> None:
    release = ROOT / "schemas" / "releases" / "kawal.SignedEvent" / "v1.avsc"
    released = json.loads(release.read_text(encoding="utf-8"))
    [format_field] = [field for field in released["fields"] if field["name"] == "format"]

    assert format_field["doc"].endswith("1.")  # what the page explains
    assert to_parsing_canonical_form(released) == default_catalog().canonical_form(
        "kawal.SignedEvent"
    )
    assert "Send `format` 2" in PAGE
