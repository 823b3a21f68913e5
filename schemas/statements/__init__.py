"""Statements: the fixed byte layouts the hub hashes and signs (docs/signing.md).

A statement is the Avro binary encoding (no header) of one of the records in this folder. Avro
binary is deterministic and every language has a reader and writer for it, so a client in any
language rebuilds a statement from the fields it received and checks a hash or signature.
Statements are frozen: unlike the message schemas they never evolve (a reader's schema would
change the bytes); a change is a new statement with a new name and a new signing context.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_writer
from fastavro.types import Schema
from fastavro.validation import validate

DIRECTORY = Path(__file__).parent

ENTRY = "kawal.statement.EntryV1"
REJECTION = "kawal.statement.RejectionV1"
TREE_HEAD = "kawal.statement.TreeHeadV1"


@cache
def statement_schema(name: str) -> Schema:
    """The parsed schema of statement ``name``."""
    return parse_schema(json.loads((DIRECTORY / f"{name}.avsc").read_text(encoding="utf-8")))


def statement_bytes(name: str, record: Mapping[str, Any]) -> bytes:
    """The Avro binary encoding of ``record`` as statement ``name``."""
    out = io.BytesIO()
    schemaless_writer(out, statement_schema(name), dict(record))
    return out.getvalue()


def fits(name: str, record: Mapping[str, Any]) -> bool:
    """Whether ``record`` can be written as statement ``name``.

    What the hub signs always fits; a record read from a topic anyone can write may not (a
    field the statement requires left empty), and then nothing anyone signed stands for it.
    """
    return bool(validate(dict(record), statement_schema(name), raise_errors=False))
