"""The statements table of docs/signing.md, held to the statement schemas the hub encodes.

A client written from the page encodes each statement from that table alone, so a field's type
or place there that differs from `schemas/statements/` gives it other bytes, other hashes and
signatures that never verify.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from schemas.statements import DIRECTORY, ENTRY, REJECTION, TREE_HEAD

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "signing.md"
FIELD = re.compile(r"`(\w+)` (union \{[^}]*\}|\w+)")


def documented(name: str, page: str = "") -> list[tuple[str, str]]:
    """The fields the page's table gives statement ``name``, in order, with their types."""
    text = page or PAGE.read_text(encoding="utf-8")
    row = re.search(rf"^\| `{re.escape(name)}` \| (.+) \|$", text, re.MULTILINE)
    assert row is not None, f"docs/signing.md has no row for {name}"
    return FIELD.findall(row.group(1))


def type_words(avro_type: Any) -> str:
    """An Avro field type as the page writes it: `long`, or `union {null, string}`."""
    if isinstance(avro_type, list):
        return "union {" + ", ".join(avro_type) + "}"
    assert isinstance(avro_type, str), avro_type
    return avro_type


def schema_fields(name: str) -> list[tuple[str, str]]:
    """The fields of statement ``name`` in its schema file, in order, with their types."""
    schema = json.loads((DIRECTORY / f"{name}.avsc").read_text(encoding="utf-8"))
    return [(field["name"], type_words(field["type"])) for field in schema["fields"]]


@pytest.mark.parametrize("name", [ENTRY, REJECTION, TREE_HEAD])
def test_the_page_gives_each_statement_its_fields_and_types_in_order(name: str) -> None:
    assert documented(name) == schema_fields(name)


def test_every_statement_file_is_in_the_table() -> None:
    names = {path.stem for path in DIRECTORY.glob("*.avsc")}
    assert names == {ENTRY, REJECTION, TREE_HEAD}


def test_a_table_with_a_wrong_type_does_not_pass() -> None:
    page = PAGE.read_text(encoding="utf-8").replace("`prev_hash` string", "`prev_hash` bytes")
    assert documented(ENTRY, page) != schema_fields(ENTRY)
