"""A figure's own CSV says what it is of, and a range after the read is refused, not zeros."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.command import run_figures
from streams.audit.figures.export import (
    ABOUT_COLUMNS,
    BECAUSE_COLUMN,
    COLUMNS,
    FILTER_NAME_COLUMNS,
    figure_csv,
)
from streams.audit.figures.facts import read_facts
from streams.audit.figures.filters import FilterError, Filters, check_started
from streams.audit.figures.view import figures
from streams.domain.calendar import load_calendar
from streams.domain.working_time import jakarta_day
from streams.settings import Settings
from tests.storetools import open_store


def test_each_row_of_a_figure_csv_ends_with_its_read_and_filters(tmp_path: Path) -> None:
    store = open_store("sqlite", tmp_path, None)
    filters = Filters(region="33", date_from=date(2024, 1, 1))
    projection = read_facts(store, AvroCodec(default_catalog()))
    view = figures(projection, load_calendar(), {}, filters, min_cases=3)

    (row,) = csv.DictReader(io.StringIO(figure_csv(view, "counts")))

    # The names of the filters came later, last, so every earlier column keeps its place.
    assert tuple(row) == (*COLUMNS["counts"], BECAUSE_COLUMN, *ABOUT_COLUMNS, *FILTER_NAME_COLUMNS)
    assert row["generated_at"] == projection.read_at.isoformat()
    assert (row["filter_region"], row["filter_from"]) == ("33", "2024-01-01")
    assert (row["filter_election"], row["filter_agency"], row["filter_to"]) == ("", "", "")


def test_a_range_may_start_on_the_day_of_the_read_but_not_after() -> None:
    as_of = date(2026, 12, 6)
    check_started(Filters(date_from=as_of), as_of)
    check_started(Filters(date_to=date(2030, 1, 1)), as_of)

    with pytest.raises(FilterError, match="after 2026-12-06") as refused:
        check_started(Filters(date_from=date(2026, 12, 7)), as_of)
    assert refused.value.field == "future"


def test_kawal_stats_refuses_a_range_after_the_read(tmp_path: Path) -> None:
    store = open_store("sqlite", tmp_path, None)
    settings = Settings(home=tmp_path, audit_db_url=store.url)
    later = jakarta_day(read_facts(store, AvroCodec(default_catalog())).read_at).replace(year=2999)

    with pytest.raises(FilterError, match="no case can be in it yet"):
        run_figures(settings, Filters(date_from=later), "csv", "counts")
