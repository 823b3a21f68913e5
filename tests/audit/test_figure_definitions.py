"""The dashboard's titles and definitions in both languages, and a store it cannot read."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.definitions import FIGURES, figure_definitions, stage_labels
from streams.audit.figures.export import COLUMNS
from streams.audit.figures.filters import Filters
from streams.audit.figures.handling import STAGES
from streams.audit.figures.view import dashboard_view
from streams.audit.store import AuditStore, StoreError
from streams.domain.calendar import load_calendar


def test_every_figure_has_a_title_and_a_definition_in_both_languages() -> None:
    found = figure_definitions()

    assert list(found) == list(FIGURES) == list(COLUMNS)
    for figure in FIGURES:
        for part in ("title", "definition"):
            assert set(found[figure][part]) == {"id", "en"}
            assert all(text.strip() for text in found[figure][part].values())


def test_every_stage_has_its_words_in_both_languages() -> None:
    labels = stage_labels()

    assert list(labels) == list(STAGES)
    assert all(set(label) == {"id", "en"} and all(label.values()) for label in labels.values())


def test_a_store_without_the_trail_tables_is_a_store_error(tmp_path: Path) -> None:
    store = AuditStore(f"sqlite:///{tmp_path / 'empty.db'}")

    with pytest.raises(StoreError, match="cannot read the audit store"):
        dashboard_view(
            store, AvroCodec(default_catalog()), load_calendar(), {}, Filters(), min_cases=3
        )
