"""The dashboard's titles and definitions: every figure and stage, in both languages."""

from __future__ import annotations

from streams.audit.figures.definitions import FIGURES, figure_definitions, stage_labels
from streams.audit.figures.export import COLUMNS
from streams.audit.figures.handling import STAGES


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
