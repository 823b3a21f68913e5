"""Headcounts per agency: read with their source, every bad row refused with what to fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from streams.domain.headcounts import Headcount, HeadcountError, load_headcounts

GOOD = """
[[agency]]
institution = "ppk.3374"
civil_servants = 8000
as_of = 2024-06-30
source = "BKN, Statistik ASN semester I 2024"
"""


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "headcounts.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_row_is_read_with_its_day_and_source(tmp_path: Path) -> None:
    found = load_headcounts(written(tmp_path, GOOD))

    assert found == {
        "ppk.3374": Headcount(
            "ppk.3374", 8000, date(2024, 6, 30), "BKN, Statistik ASN semester I 2024"
        )
    }


def test_the_bundled_file_reads_and_holds_no_guessed_number() -> None:
    assert load_headcounts() == {}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("8000", "0"), "civil_servants must be a whole number above 0"),
        (("8000", "-5"), "civil_servants must be a whole number above 0"),
        (("8000", '"8000"'), "civil_servants must be a whole number above 0"),
        (("8000", "true"), "civil_servants must be a whole number above 0"),
        (("8000", "8000.5"), "civil_servants must be a whole number above 0"),
        (("2024-06-30", '"2024-06-30"'), "as_of must be a TOML date"),
        (("2024-06-30", "2024-06-30T08:00:00"), "as_of must be a TOML date"),
        (('"BKN, Statistik ASN semester I 2024"', '"  "'), "source must be a non-empty text"),
        (('"ppk.3374"', '""'), "institution must be a non-empty text"),
        (("source =", "sumber ="), "sumber is not a known key"),
    ],
)
def test_a_bad_row_is_refused_naming_it(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    with pytest.raises(HeadcountError, match=r"\[\[agency\]\] #1: " + problem):
        load_headcounts(written(tmp_path, GOOD.replace(*change)))


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    bad = GOOD.replace("8000", "0") + GOOD.replace("2024-06-30", '"June"') + "[extra]\n"

    with pytest.raises(HeadcountError) as raised:
        load_headcounts(written(tmp_path, bad))

    message = str(raised.value)
    assert "#1: civil_servants" in message
    assert "#2: as_of" in message
    assert "ppk.3374 has two rows" in message
    assert "[extra] is not read" in message


def test_agency_not_an_array_of_tables_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HeadcountError, match="begin each row"):
        load_headcounts(written(tmp_path, 'agency = "ppk.3374"\n'))


def test_unreadable_toml_says_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(HeadcountError, match="fix the TOML"):
        load_headcounts(written(tmp_path, "[[agency]\n"))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(HeadcountError, match="KAWAL_HEADCOUNTS_FILE"):
        load_headcounts(tmp_path / "absent.toml")
