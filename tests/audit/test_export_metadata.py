"""Names beside codes and the metadata of the exports, without a hub: registry to cells."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.command import run_figures, run_stats
from streams.audit.figures.definitions import FIGURES, column_definitions
from streams.audit.figures.export import csv_columns, figure_csv
from streams.audit.figures.facts import read_facts
from streams.audit.figures.filters import Filters
from streams.audit.figures.metadata import csv_metadata
from streams.audit.figures.named import stats_with_names, with_names
from streams.audit.figures.view import figures
from streams.audit.public_names import public_names
from streams.domain.calendar import load_calendar
from streams.domain.institutions import Institution, load_institutions
from streams.settings import Settings
from tests.storetools import open_store

NAMES = public_names(load_institutions(None))


def test_the_bundled_registry_names_agencies_provinces_and_inspected_regions() -> None:
    assert NAMES.agency("ppk.3374") == "PPK Pemerintah Kota Semarang"
    assert NAMES.region("3374") == "Kota Semarang"  # from "Inspektorat Kota Semarang"
    assert NAMES.region("33") == "Jawa Tengah"  # the provinces table, not Bawaslu's entry
    assert NAMES.agency("ppk.3399") is None
    assert NAMES.region("3399") is None
    assert NAMES.agency(None) is None


def test_an_inspectorate_named_otherwise_names_no_region() -> None:
    odd = Institution("inspektorat.3301", "regional_inspectorate", "Itjen Cilacap")

    assert public_names([odd]).region("3301") is None


@pytest.mark.parametrize("figure", FIGURES)
def test_every_csv_column_is_defined_in_both_languages(figure: str) -> None:
    definitions = column_definitions()

    for column in csv_columns(figure):
        assert set(definitions[column]) == {"id", "en"}, column
        assert all(text.strip() for text in definitions[column].values()), column


def test_a_row_withheld_whole_gains_no_name_that_would_give_its_agency_back() -> None:
    view: dict[str, Any] = {
        "filters": Filters().as_dict(),
        "violation_ratio": [{"agency": None, "withheld": ["reported"]}],
        "follow_up": [{"agency": "ppk.3399"}],
        "catatan_merah": [],
    }

    named = with_names(view, NAMES)

    assert named["violation_ratio"][0]["agency_name"] is None
    assert named["follow_up"][0] == {"agency": "ppk.3399", "agency_name": None}
    assert view["follow_up"][0] == {"agency": "ppk.3399"}  # the cached view is not changed


def test_a_figure_csv_of_an_empty_store_names_its_filters_and_has_metadata(
    tmp_path: Path,
) -> None:
    store = open_store("sqlite", tmp_path, None)
    projection = read_facts(store, AvroCodec(default_catalog()))
    filters = Filters(region="3374", agency="ppk.9999")
    view = with_names(figures(projection, load_calendar(), {}, filters, min_cases=3), NAMES)

    (row,) = csv.DictReader(io.StringIO(figure_csv(view, "counts")))
    document = csv_metadata(view, "counts", "counts.csv?region=3374")

    assert (row["filter_region_name"], row["filter_agency_name"]) == (
        "Kota Semarang",
        "unknown agency",
    )
    assert [column["name"] for column in document["tableSchema"]["columns"]] == list(row)
    assert document["prov:generatedAtTime"]["@value"] == row["generated_at"]


def test_kawal_stats_names_agencies_and_regions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    view = {
        "by_region": [{"region": "3374"}, {"region": "3399"}],
        "by_institution": [{"institution": "ppk.3374"}],
    }

    named = stats_with_names(view, NAMES)

    assert named["by_region"] == [
        {"region": "3374", "region_name": "Kota Semarang"},
        {"region": "3399", "region_name": None},
    ]
    assert named["by_institution"][0]["institution_name"] == "PPK Pemerintah Kota Semarang"
    store = open_store("sqlite", tmp_path, None)
    settings = Settings(home=tmp_path, audit_db_url=store.url)
    assert run_stats(settings, as_json=True) == 0
    assert "definitions" in json.loads(capsys.readouterr().out)
    assert run_figures(settings, Filters(agency="ppk.3374"), "json", "follow_up") == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["filter_names"]["agency"] == "PPK Pemerintah Kota Semarang"
    assert printed["software"]["name"] == "kawal"
    assert "follow_up_rate" in printed["columns"]
