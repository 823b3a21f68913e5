"""``kawal stats`` with filters and ``--format``: the dashboard's figures on the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.store import AuditStore
from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from tests.dashboard_mix import closing, generate, write
from tests.entrytools import signed_rows
from tests.hubtools import recommendation, referral, registration, report, verification


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


def test_json_holds_every_figure_with_its_definitions(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--format", "json", "--election", "pilkada-2024"]) == EXIT_OK
    view = json.loads(capsys.readouterr().out)

    assert view["filters"]["election"] == "pilkada-2024"
    for figure in ("counts", "handling_times", "violation_ratio", "follow_up", "catatan_merah"):
        assert figure in view
        assert view["definitions"][figure]["title"]["id"]
        assert view["definitions"][figure]["definition"]["en"]


def test_csv_of_one_figure_matches_its_json(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["stats", "--format", "json", "--region", "33"])
    view = json.loads(capsys.readouterr().out)
    assert main(["stats", "--format", "csv", "--figure", "follow_up", "--region", "33"]) == 0

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    assert [row["agency"] for row in rows] == [row["agency"] for row in view["follow_up"]]
    # A rate the suppression rule withholds is null in JSON and "withheld" in CSV.
    assert [
        None if row["follow_up_rate"] == "withheld" else float(row["follow_up_rate"])
        for row in rows
    ] == [row["follow_up_rate"] for row in view["follow_up"]]
    assert "withheld" in [row["follow_up_rate"] for row in rows]


def test_a_case_closed_before_any_sanction_is_closed_without_follow_up_not_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", url)
    store = AuditStore(url)
    store.create_schema()
    for _ in range(3):
        first = report()
        case_id = first["envelope"]["case_id"]
        steps = (registration, verification, referral, recommendation)
        events = [first, *(step(case_id) for step in steps)]
        # Recommended, then closed: the civil servant left the service before any sanction.
        events.append(closing(case_id, "SUBJECT_LEFT_SERVICE"))
        store.insert(signed_rows(AvroCodec(default_catalog()), events))
    store.close()

    assert main(["stats", "--format", "json", "--figure", "follow_up"]) == EXIT_OK
    (row,) = json.loads(capsys.readouterr().out)["follow_up"]
    assert main(["stats", "--format", "csv", "--figure", "follow_up"]) == EXIT_OK
    (exported,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert main(["stats", "--format", "text", "--figure", "follow_up"]) == EXIT_OK
    text = capsys.readouterr().out

    assert row == {
        "agency": "ppk.3374", "recommended": 3, "followed_up": 0, "not_followed_up": 3,
        "pending": 0, "overdue": 0, "closed_without_follow_up": 3, "follow_up_rate": 0.0,
        "agency_name": "PPK Pemerintah Kota Semarang",
    }  # fmt: skip
    assert exported["agency_name"] == "PPK Pemerintah Kota Semarang"
    assert exported["pending"] == "0"
    assert exported["closed_without_follow_up"] == "3"
    # The text shows the one figure asked for, not every figure.
    assert "ppk.3374" in text
    assert [line for line in text.splitlines() if line and not line[0].isspace()] == [
        "filters: none",
        "Follow-up rate per PPK",
    ]


def test_csv_of_every_figure_names_each(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--format", "csv"]) == EXIT_OK
    out = capsys.readouterr().out

    assert [line for line in out.splitlines() if line.startswith("#")] == [
        "# counts", "# handling_times", "# violation_ratio", "# follow_up", "# catatan_merah",
        "# about",
    ]  # fmt: skip


def test_csv_of_every_figure_ends_saying_what_they_are_of(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["stats", "--format", "json", "--region", "33"])
    view = json.loads(capsys.readouterr().out)
    assert main(["stats", "--format", "csv", "--region", "33"]) == EXIT_OK

    after = capsys.readouterr().out.split("# about\r\n")[1]
    about = dict(csv.reader(io.StringIO(after, newline="")))

    assert about.pop("about") == "value"
    assert datetime.fromisoformat(about["generated_at"]) >= datetime.fromisoformat(
        view["generated_at"]
    )  # each command reads the store anew
    assert (about["filter_region"], about["filter_election"]) == ("33", "")
    assert about["min_cases"] == str(view["suppression"]["min_cases"])
    assert about["withheld"] == view["suppression"]["reason"]["en"]
    assert about["definition_follow_up"] == view["definitions"]["follow_up"]["definition"]["en"]
    assert "no personal data" in about["source"]


def test_text_shows_each_figure_under_its_title(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--agency", "ppk.3374", "--from", "2024-01-01"]) == EXIT_OK
    out = capsys.readouterr().out

    assert out.startswith("filters: agency=ppk.3374, from=2024-01-01")
    for title in ("Cases", "Handling time (working days)", "Follow-up rate per PPK"):
        assert f"\n{title}\n" in out
    assert "\n  Working days after the day a stage started" in out


def test_without_a_filter_or_format_the_counts_are_unchanged(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--json"]) == EXIT_OK

    view = json.loads(capsys.readouterr().out)

    assert set(view) >= {"totals", "by_election", "by_region", "by_institution"}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--region", "Jawa Tengah"], "region must be a Kemendagri code"),
        (["--election", "p" * 101], "election must be printable text of 1 to 100"),
        (["--election", "pilkada\x1b[2J"], "election must be printable text"),
        (["--agency", "PPK Semarang"], "agency must be an id"),
        (["--from", "27/11/2024"], "from must be a day as YYYY-MM-DD"),
        (["--from", "20241127"], "from must be a day as YYYY-MM-DD"),
        (["--from", "2024-12-01", "--to", "2024-11-01"], "the range ends before it starts"),
        (["--figure", "everything"], "unknown figure 'everything'"),
    ],
)
def test_a_bad_filter_is_an_error_that_says_what_to_give(
    filled: AuditStore, capsys: pytest.CaptureFixture[str], args: list[str], problem: str
) -> None:
    assert main(["stats", *args]) == EXIT_ERROR

    captured = capsys.readouterr()
    assert problem in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("args", "problem", "known"),
    [
        (["--election", "pilkada-2042"], "no case of this election is in the hub", "pilkada-2024"),
        (["--region", "99"], "no province has this code", "33 (Jawa Tengah)"),
        (["--agency", "ppk.9999"], "no registered PPK nor any case's", "ppk.3374"),
    ],
)
def test_an_unknown_value_is_an_error_listing_the_known_not_zeros(
    filled: AuditStore,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    problem: str,
    known: str,
) -> None:
    assert main(["stats", "--format", "csv", *args]) == EXIT_ERROR

    captured = capsys.readouterr()
    assert problem in captured.err
    assert known in captured.err
    assert captured.out == ""


def test_an_unknown_format_is_a_usage_error(filled: AuditStore) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["stats", "--format", "xml"])

    assert raised.value.code == EXIT_USAGE


def test_a_bad_headcount_file_is_named(
    filled: AuditStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "headcounts.toml"
    bad.write_text('[[agency]]\ninstitution = "ppk.3374"\ncivil_servants = 0\n', encoding="utf-8")
    monkeypatch.setenv("KAWAL_HEADCOUNTS_FILE", str(bad))

    assert main(["stats", "--format", "text"]) == EXIT_ERROR

    assert "civil_servants must be a whole number above 0" in capsys.readouterr().err


def test_json_with_a_filter_prints_the_figures(
    filled: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--json", "--region", "33"]) == EXIT_OK

    view = json.loads(capsys.readouterr().out)

    assert view["filters"]["region"] == "33"
    assert "handling_times" in view


def test_an_escape_sequence_in_stored_text_is_shown_not_obeyed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Stored before ingress checked elections: OSC 52 would set the operator's clipboard.
    election = "pilkada\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\x9b2J"
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", url)
    store = AuditStore(url)
    store.create_schema()
    (case,) = generate(seed=3, count=1)
    case[0]["election"] = election
    write(store, AvroCodec(default_catalog()), [case])

    assert main(["stats"]) == EXIT_OK
    text = capsys.readouterr().out
    assert main(["stats", "--json"]) == EXIT_OK
    as_json = capsys.readouterr().out

    assert not {"\x1b", "\x07", "\x9b"} & set(text)
    assert "pilkada\\u001b]52;c;Y3VybCBldmlsIHwgc2g=\\u0007\\u009b2J" in text
    # In JSON the shown form is the same character: the value reads back unchanged.
    assert election in _strings(json.loads(as_json))


def _strings(value: object) -> set[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {found for key, item in value.items() for found in {key} | _strings(item)}
    if isinstance(value, list):
        return {found for item in value for found in _strings(item)}
    return set()
