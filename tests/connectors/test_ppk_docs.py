"""docs/connectors.md tells a PPK what its decree registry must hold and why a decree is refused."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.schema import CreateTable

from connectors.ppk import connector, decree_subjects, inbox, writes
from connectors.ppk.database import (
    CASE_SUBJECTS,
    COMPARED_COLUMNS,
    HUB_REFUSALS,
    METADATA,
    READ_COLUMNS,
    RECOMMENDATIONS,
)
from tests.connectors import guide

HEADING = "### The PPK's decree registry (`ppk-decrees`)"
INBOX_HEADING = "### The PPK's inbox (`ppk-inbox`)"


def section(heading: str = HEADING) -> str:
    """The section of the connectors guide under ``heading``."""
    return guide.section(heading)


def described_columns(text: str) -> set[str]:
    """The column names a section's tables describe, in their first cells."""
    rows = re.findall(r"^\| (`[^|]+`) \|", text, flags=re.MULTILINE)
    return {name for cell in rows for name in re.findall(r"`(\w+)`", cell)}


def test_every_column_the_connector_reads_is_described() -> None:
    read = (*READ_COLUMNS, *COMPARED_COLUMNS)

    assert described_columns(section()) == {column.name for column in read}


def test_every_column_the_inbox_writes_is_described() -> None:
    tables = (RECOMMENDATIONS, CASE_SUBJECTS, HUB_REFUSALS)
    written = {column.name for table in tables for column in table.c}

    assert described_columns(section(INBOX_HEADING)) == written


def test_every_reason_a_decree_is_dead_lettered_is_named() -> None:
    source = "".join(
        Path(str(module.__file__)).read_text(encoding="utf-8")
        for module in (connector, decree_subjects)
    )
    codes = set(re.findall(r'PermanentError\(\s*"(\w+)"', source))

    assert codes
    assert not [code for code in codes if f"`{code}`" not in section()]


def test_every_reason_the_inbox_dead_letters_is_named() -> None:
    source = "".join(
        Path(str(module.__file__)).read_text(encoding="utf-8") for module in (inbox, writes)
    )
    codes = set(re.findall(r'PermanentError\(\s*"(\w+)"', source))

    assert codes
    assert not [code for code in codes if f"`{code}`" not in section(INBOX_HEADING)]


def test_the_registry_tables_are_given_as_the_connectors_define_them() -> None:
    given = section("### The PPK's registry tables").split("```sql\n", 1)[1].split("```")[0]
    dialect = create_engine("postgresql+psycopg://").dialect  # never connects
    defined = [
        str(CreateTable(table).compile(dialect=dialect)).strip() + ";"
        for table in METADATA.sorted_tables
    ]

    assert given.split() == "\n".join(defined).split()
