"""Every code the pages show has its words in data, in Indonesian and English."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from streams.domain.lifecycle import Phase
from streams.web.labels import LABEL_FILES, label_text, labels

EVENT_TYPES = sorted(
    name.removeprefix("kawal.events.")
    for name in default_catalog().names()
    if name.startswith("kawal.events.")
)
DEADLINES = tomllib.loads(
    (Path(__file__).parents[2] / "streams" / "data" / "deadlines.toml").read_text()
)


def symbols(name: str) -> set[str]:
    return set(default_catalog().schema(name)["symbols"])


@pytest.mark.parametrize(
    ("kind", "codes"),
    [
        ("phase", {phase.value for phase in Phase}),
        ("event", set(EVENT_TYPES)),
        ("deadline", {rule["id"] for rule in DEADLINES["rule"]}),
        ("sanction", symbols("kawal.SanctionKind") | symbols("kawal.SanctionLevel")),
        ("violation", symbols("kawal.ViolationCategory")),
    ],
)
def test_every_code_has_words_and_nothing_else_does(kind: str, codes: set[str]) -> None:
    assert set(labels(kind)) == codes


def test_every_kind_has_a_file() -> None:
    assert all(path.is_file() for path in LABEL_FILES.values())


def test_words_follow_the_language() -> None:
    assert label_text("phase", "not_proven", "id") == "Tidak terbukti"
    assert label_text("phase", "not_proven", "en") == "Not proven"
    assert label_text("sanction", "WRITTEN_REPRIMAND", "id") == "Teguran tertulis"


def test_a_code_newer_than_the_data_is_shown_as_it_is() -> None:
    assert label_text("event", "SomethingNew", "id") == "SomethingNew"
