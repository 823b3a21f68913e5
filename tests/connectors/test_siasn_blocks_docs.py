"""docs/connectors.md tells BKN what SIASN's block log rows hold and why a row is refused."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.siasn import block_log, blocks
from tests.connectors import guide

HEADING = "### SIASN's blocks (`siasn-blocks`)"


def section() -> str:
    """The siasn-blocks section of the connectors guide."""
    return guide.section(HEADING)


def test_every_field_of_a_log_row_is_described() -> None:
    log = block_log.BlockLog()
    case = {"case_ref": "c", "nip": "n", "employing_agency": "ppk.3374"}
    row = log.blocked("BLK-1", case, {"reason": "RECOMMENDATION_NOT_FOLLOWED_UP"})
    rows = re.findall(r"^\| `(\w+)` \|", section(), flags=re.MULTILINE)

    assert set(rows) == set(row)


def test_every_reason_a_row_is_dead_lettered_is_named() -> None:
    source = Path(blocks.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'PermanentError\(\s*"(\w+)"', source))

    assert len(codes) == 9
    assert not [code for code in codes if f"`{code}`" not in section()]
