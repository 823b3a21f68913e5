"""The front page's case summary says why a reader sees fewer cases than the hub holds."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from streams.domain.institutions import load_institutions
from streams.domain.parties import CaseParties
from streams.web.case_audience import EVERY_CASE
from streams.web.page import FrontPage, _front_page
from streams.web.render import CaseRow, Overview
from tests.web.test_page import no_stats


def _built(agencies: list[str], total: int) -> FrontPage:
    """A front page build listing a case of each of ``agencies``, of ``total`` in the hub."""
    rows = [CaseRow(f"c{n}", "reported", institution=a) for n, a in enumerate(agencies)]
    parties = {
        row.case_id: CaseParties("bkn", "bawaslu.33", str(row.institution), "3374") for row in rows
    }
    overview = Overview(datetime.now(UTC), rows, total, no_stats(), {}, [])
    return FrontPage(overview, parties)


def _page(built: FrontPage, seen_by: str, locale: Any = "en") -> str:
    directory = SimpleNamespace(institutions=load_institutions())
    sources: Any = SimpleNamespace(trails=SimpleNamespace(directory=directory))
    return _front_page(sources, built, seen_by, locale)


def test_a_ppk_is_told_it_sees_its_own_cases_not_the_most_recent() -> None:
    built = _built(["ppk.3374"] * 3 + ["ppk.3301"] * 2, total=5)

    page = _page(built, "ppk.3374")

    assert "5 cases; showing the 3 your institution is party to." in page
    assert "most recent" not in page
    assert "5 kasus; menampilkan 3 yang instansi Anda menjadi pihaknya." in _page(
        built, "ppk.3374", "id"
    )


def test_a_ppk_whose_list_is_cut_to_the_most_recent_is_told_both() -> None:
    built = _built(["ppk.3374"] * 3 + ["ppk.3301"] * 2, total=9)

    page = _page(built, "ppk.3374")

    assert "9 cases; of the 5 most recent, showing the 3 your institution is party to." in page


@pytest.mark.parametrize("total", [5, 9])
def test_a_reader_of_every_case_still_sees_the_most_recent(total: int) -> None:
    page = _page(_built(["ppk.3374"] * 3 + ["ppk.3301"] * 2, total), EVERY_CASE)

    assert f"{total} cases; showing the 5 most recent." in page


@pytest.mark.parametrize(
    ("locale", "words"),
    [("en", "the row of a province (33) holds only"), ("id", "baris provinsi (33) hanya memuat")],
)
def test_the_front_page_says_its_region_rows_are_by_exact_code(locale: Any, words: str) -> None:
    page = _page(_built(["ppk.3374"], total=1), EVERY_CASE, locale)

    assert words in page
