"""``kawal stats --unwithheld``: the operator reads every PPK's follow-up figures whole."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.agencies import follow_up_rate
from streams.audit.figures.facts import read_facts
from streams.audit.figures.filters import Filters, reported_cases
from streams.audit.store import AuditStore
from streams.cli import main
from streams.cli.exits import EXIT_OK
from tests.dashboard_mix import generate, write


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditStore:
    """A store holding a generated mix, where ``kawal`` finds it."""
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", url)
    store = AuditStore(url)
    store.create_schema()
    write(store, AvroCodec(default_catalog()), generate(seed=7, count=30))
    return store


def _real(store: AuditStore, agency: str) -> dict[str, object]:
    projection = read_facts(store, AvroCodec(default_catalog()))
    rows = follow_up_rate(reported_cases(projection.cases, Filters(agency=agency)))
    return {key: value for key, value in rows[0].items() if key != "agency"}


def test_the_follow_up_of_one_agency_is_withheld_publicly_and_whole_unwithheld(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = ["stats", "--figure", "follow_up", "--agency", "ppk.7371", "--format", "json"]
    assert main(asked) == EXIT_OK
    (public,) = json.loads(capsys.readouterr().out)["follow_up"]

    assert main([*asked, "--unwithheld"]) == EXIT_OK
    view = json.loads(capsys.readouterr().out)

    assert public["withheld"]
    (row,) = view["follow_up"]
    assert {key: row[key] for key in _real(filled, "ppk.7371")} == _real(filled, "ppk.7371")
    assert row["public_withheld"] == public["withheld"]
    assert len(row["pending_cases"]) == row["pending"]
    assert len(row["overdue_cases"]) == row["overdue"]
    assert "do not publish" in view["every_case_view"]["note"]["en"]


def test_csv_and_text_show_the_counts_and_the_cases(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = ["stats", "--figure", "follow_up", "--unwithheld"]
    assert main([*asked, "--format", "csv"]) == EXIT_OK

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    assert rows
    assert all("withheld" not in row.values() for row in rows)
    assert main(asked) == EXIT_OK
    text = capsys.readouterr().out
    assert "Recommendations not followed up, by PPK (case ids):" in text
