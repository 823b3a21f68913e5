"""docs/connectors.md tells a PPK what its decree registry must hold and why a decree is refused."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.ppk import connector
from connectors.ppk.database import READ_COLUMNS
from tests.connectors import guide

HEADING = "### The PPK's decree registry (`ppk-decrees`)"


def section() -> str:
    """The decree registry's section of the connectors guide."""
    return guide.section(HEADING)


def test_every_column_the_connector_reads_is_described() -> None:
    rows = re.findall(r"^\| (`[^|]+`) \|", section(), flags=re.MULTILINE)
    described = {name for cell in rows for name in re.findall(r"`(\w+)`", cell)}

    assert described == {column.name for column in READ_COLUMNS}


def test_every_reason_a_decree_is_dead_lettered_is_named() -> None:
    source = Path(connector.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'PermanentError\(\s*"(\w+)"', source))

    assert codes
    assert not [code for code in codes if f"`{code}`" not in section()]
