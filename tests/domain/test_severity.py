"""The severity table: every violation category has a level, in the law's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from streams.domain.severity import SeverityDataError, load_severity

CATEGORIES = default_catalog().schema("kawal.ViolationCategory")["symbols"]


def test_every_category_has_a_level_and_discipline_outranks_ethics() -> None:
    table = load_severity(CATEGORIES)

    assert set(table.by_category) == set(CATEGORIES)
    assert table.levels == ("heavy", "medium", "ethics")
    ethics = table.rank_of("ETHICS_BANNER")
    assert table.rank_of("DISCIPLINE_USE_OF_OFFICE_FACILITIES") < ethics
    assert table.rank_of("DISCIPLINE_MOBILIZING_CIVIL_SERVANTS") < ethics
    assert all(table.level_of(c) == "ethics" for c in CATEGORIES if c.startswith("ETHICS_"))


def test_a_code_newer_than_the_data_is_triaged_like_an_unknown_one() -> None:
    table = load_severity(CATEGORIES)

    assert table.level_of("DISCIPLINE_SOMETHING_NEW") == table.level_of("UNKNOWN") == "medium"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "severity.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[levels]\norder = []\n[category]\nUNKNOWN = "a"', "needs \\[levels\\] order"),
        ('[levels]\norder = ["a", "a"]\n[category]\nUNKNOWN = "a"', "names a level twice"),
        ('[levels]\norder = ["a"]', "needs a \\[category\\] table"),
        ('[levels]\norder = ["a"]\n[category]\nUNKNOWN = "b"', "UNKNOWN name a level not in"),
        ('[levels]\norder = ["a"]\n[category]\nUNKNOWN = "a"', "missing \\['DISCIPLINE_"),
        ("[levels\n", "cannot read the severity table"),
    ],
)
def test_a_table_that_does_not_fit_is_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SeverityDataError, match=message):
        load_severity(CATEGORIES, write(tmp_path, text))


def test_a_category_the_schema_does_not_have_is_refused(tmp_path: Path) -> None:
    rows = "\n".join(f'{c} = "a"' for c in [*CATEGORIES, "NOT_A_CATEGORY"])

    with pytest.raises(SeverityDataError, match="unknown \\['NOT_A_CATEGORY'\\]"):
        load_severity(CATEGORIES, write(tmp_path, f'[levels]\norder = ["a"]\n[category]\n{rows}'))
