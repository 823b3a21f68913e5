"""Titles and definitions of the dashboard's figures and stages (``data/dashboard.toml``)."""

from __future__ import annotations

import functools
from typing import Any

from streams.domain.data_files import read_toml

#: The figures, in the order the dashboard and the exports show them.
FIGURES = ("counts", "handling_times", "violation_ratio", "follow_up", "catatan_merah")


@functools.cache
def definitions() -> dict[str, Any]:
    """``figure`` -> id -> {title, definition} -> {id, en}; ``stage`` -> id -> {id, en}.

    The file is bundled and checked by the tests (every figure and stage present in both
    languages), so reading it cannot fail at run time.
    """
    return read_toml(None, "dashboard.toml")


def figure_definitions() -> dict[str, dict[str, dict[str, str]]]:
    """Each figure's title and definition in Indonesian and English, in :data:`FIGURES` order."""
    found: dict[str, dict[str, dict[str, str]]] = definitions()["figure"]
    return {figure: found[figure] for figure in FIGURES}


def stage_labels() -> dict[str, dict[str, str]]:
    """Each handling stage's label in Indonesian and English."""
    labels: dict[str, dict[str, str]] = definitions()["stage"]
    return labels


def column_definitions() -> dict[str, dict[str, str]]:
    """What each column of the figures' tables holds, in Indonesian and English, by column.

    One source for every channel: the page's column captions, ``figures.json``'s ``columns``,
    ``figures.csv``'s about table and each CSV's metadata document
    (:mod:`streams.audit.figures.metadata`).
    """
    found: dict[str, dict[str, str]] = definitions()["column"]
    return found
