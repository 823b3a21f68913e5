"""Public statistics: the projection on a real SQLite store, then on the real hub."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.figures.command import run_stats, stats_view
from streams.audit.figures.facts import read_facts
from streams.audit.figures.public_views import front_page_stats
from streams.audit.stats import COLUMNS, GROUPINGS, CaseOutcome, format_table, stats_of
from streams.audit.store import AuditStore, StoreError
from streams.audit.suppression import withheld
from streams.domain.deadlines import breach_event, load_rules
from streams.domain.lifecycle import FOLLOW_UP_RULE, start
from streams.settings import Settings
from tests.casemix import EXPECTED, Mix, appeal_decided, drive_mix, new_report
from tests.entrytools import signed_rows
from tests.hubtools import RunningHub, recommendation, sanction, until_referral


@pytest.fixture
def store(tmp_path: Path) -> AuditStore:
    audit = AuditStore(f"sqlite:///{tmp_path / 'audit.db'}")
    audit.create_schema()
    return audit


def record_trail(store: AuditStore, codec: AvroCodec, events: list[dict[str, Any]]) -> None:
    """Store a case's events as the ledger would: signed, committed, chained."""
    store.insert(signed_rows(codec, events))


def proven_case(mix: Mix, **changes: str) -> tuple[str, list[dict[str, Any]]]:
    first = new_report(mix) | changes
    case_id: str = first["envelope"]["case_id"]
    return case_id, [first, *(record for _, record in until_referral(case_id))]


def breach(first: dict[str, Any], issued: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    clock = {
        "rule_id": FOLLOW_UP_RULE,
        "started_at": (now - timedelta(days=30)).isoformat(),
        "due_at": (now - timedelta(days=1)).isoformat(),
        "caused_by": issued["envelope"]["event_id"],
    }
    rule = load_rules()[FOLLOW_UP_RULE]
    case_id = first["envelope"]["case_id"]
    return breach_event(case_id, start(first, "bkn"), clock, rule, now)


def fill_store(store: AuditStore, codec: AvroCodec, mix: Mix) -> None:
    """Four cases in two elections, one overturned on appeal, one ignored past its deadline."""
    sanctioned, events = proven_case(mix)
    record_trail(store, codec, [*events, recommendation(sanctioned), sanction(sanctioned)])
    overturned, events = proven_case(mix, region_code="3301", employing_agency="ppk.3301")
    decided = appeal_decided(overturned, str(uuid.uuid4()), "OVERTURNED")
    record_trail(store, codec, [*events, recommendation(overturned), sanction(overturned), decided])
    ignored, events = proven_case(mix, election="pemilu-2024")
    issued = recommendation(ignored)
    record_trail(store, codec, [*events, issued, breach(events[0], issued)])
    _, events = proven_case(mix)
    events[2]["verdict"] = "NOT_PROVEN"
    record_trail(store, codec, events[:3])


def by(view: dict[str, Any], grouping: str, attribute: str, key: str) -> dict[str, Any]:
    return next(row for row in view[grouping] if row[attribute] == key)


def test_projection_counts_each_case_once_per_column(store: AuditStore) -> None:
    codec = AvroCodec(default_catalog())
    mix = Mix(election="pilkada-2024")
    fill_store(store, codec, mix)

    view = stats_view(store, codec, min_cases=1)

    assert view["totals"] == {
        "reported": 4,
        "proven": 3,
        "recommended": 3,
        "followed_up": 2,
        "sanctioned": 1,
        "follow_up_overdue": 1,
    }
    pilkada = by(view, "by_election", "election", "pilkada-2024")
    assert (pilkada["reported"], pilkada["followed_up"], pilkada["sanctioned"]) == (3, 2, 1)
    pemilu = by(view, "by_election", "election", "pemilu-2024")
    assert (pemilu["recommended"], pemilu["followed_up"], pemilu["follow_up_overdue"]) == (1, 0, 1)
    assert by(view, "by_region", "region", "3301")["sanctioned"] == 0
    assert by(view, "by_institution", "institution", "ppk.3374")["reported"] == 3
    assert view["cases"] == 4
    assert view["skipped_entries"] == 0


def test_the_dashboards_projection_gives_the_same_statistics(store: AuditStore) -> None:
    # The front page shows the statistics of the dashboard's projection; `kawal stats` reads
    # the store.
    codec = AvroCodec(default_catalog())
    fill_store(store, codec, Mix(election="pilkada-2024"))
    projection = read_facts(store, codec)

    shared = front_page_stats(projection, 3)
    direct = stats_view(store, codec, min_cases=3)

    assert shared["generated_at"] == projection.read_at.isoformat()
    assert {key: value for key, value in shared.items() if key != "generated_at"} == {
        key: value for key, value in direct.items() if key != "generated_at"
    }


def test_projection_holds_no_personal_data(store: AuditStore) -> None:
    codec = AvroCodec(default_catalog())
    mix = Mix(election="pilkada-2024")
    fill_store(store, codec, mix)

    text = json.dumps(stats_view(store, codec, min_cases=3))

    assert mix.personal
    assert not [value for value in mix.personal if value in text]
    assert "case_id" not in text


def test_undecodable_entries_are_counted_and_left_out(store: AuditStore) -> None:
    codec = AvroCodec(default_catalog())
    mix = Mix(election="pilkada-2024")
    case_id, events = proven_case(mix)
    record_trail(store, codec, events)
    bad = signed_rows(codec, [*events, sanction(case_id)])[-1] | {"event": b"not avro"}
    store.insert([bad])

    view = stats_view(store, codec, min_cases=1)

    assert view["skipped_entries"] == 1
    assert view["totals"]["proven"] == 1
    assert view["totals"]["sanctioned"] == 0


def test_empty_store_has_zero_counts(store: AuditStore) -> None:
    view = stats_view(store, AvroCodec(default_catalog()), min_cases=3)

    assert view["totals"] == dict.fromkeys(COLUMNS, 0)
    assert view["by_election"] == []


def test_stats_of_a_missing_store_say_what_to_do(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)

    with pytest.raises(StoreError, match="start the hub"):
        run_stats(settings, as_json=True)


def test_a_missing_store_says_to_restore_a_lost_one_from_its_backup(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)

    with pytest.raises(StoreError) as missing:
        run_stats(settings, as_json=True)

    assert "a store that was lost is restored from its backup" in str(missing.value)
    assert "no longer matches the heads institutions kept" in str(missing.value)


def test_stats_of_cases_driven_through_the_hub(
    hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    mix = drive_mix(hub)

    view = stats_view(hub.store, hub.codec, min_cases=1)
    assert run_stats(Settings(audit_db_url=hub.store.url), as_json=True) == 0
    printed = json.loads(capsys.readouterr().out)
    assert run_stats(Settings(audit_db_url=hub.store.url), as_json=False) == 0
    table = capsys.readouterr().out

    row_of_mix = by(view, "by_election", "election", mix.election)
    assert {column: row_of_mix[column] for column in COLUMNS} == EXPECTED
    # Printed with the default K of 3: the mix's ones and twos do not show. Its three reports
    # show unless the secondary rule withholds them too, as the session hub's other cases decide.
    shown = {column: (None if 0 < count < 3 else count) for column, count in EXPECTED.items()}
    printed_row = by(printed, "by_election", "election", mix.election)
    assert printed_row["reported"] in (EXPECTED["reported"], None)
    shown["reported"] = printed_row["reported"]
    assert {column: printed_row[column] for column in COLUMNS} == shown
    line = next(line for line in table.splitlines() if line.startswith(mix.election))
    assert line.split()[1:] == [str(count or "withheld") for count in shown.values()]
    assert not [value for value in mix.personal if value in table + json.dumps(printed)]


def test_small_counts_are_withheld_and_a_lone_one_cannot_be_subtracted(store: AuditStore) -> None:
    codec = AvroCodec(default_catalog())
    fill_store(store, codec, Mix(election="pilkada-2024"))

    view = stats_view(store, codec, min_cases=3)

    # Four cases: three in pilkada-2024, one in pemilu-2024.
    totals = view["totals"]
    assert totals["reported"] == 4
    assert totals["proven"] == 3
    assert withheld(totals) == ["follow_up_overdue", "followed_up", "sanctioned"]
    pemilu = by(view, "by_election", "election", "pemilu-2024")
    assert set(withheld(pemilu)) == set(COLUMNS)
    # The lone small row would be 4 - 3 = 1: its neighbour is withheld with it.
    pilkada = by(view, "by_election", "election", "pilkada-2024")
    assert pilkada["reported"] is None
    assert pilkada["proven"] is None
    for key, _attribute, _heading in GROUPINGS:
        for column in COLUMNS:
            hidden = [row for row in view[key] if column in withheld(row)]
            assert len(hidden) != 1 or totals[column] is None, (key, column)


def test_the_readable_table_keeps_each_count_under_its_heading() -> None:
    proven = CaseOutcome("pilkada-2024", "3374", "ppk.3374", reported=True, proven=True)
    not_proven = CaseOutcome("pilkada-2024", "3374", "ppk.3374", reported=True)
    view = stats_of([proven, proven, not_proven], 0, min_cases=3)

    lines = format_table(view)

    header = next(line for line in lines if line.startswith("institution"))
    row = lines[lines.index(header) + 1]
    # Right-aligned: each heading and the cell below it end in the same column.
    for label in COLUMNS.values():
        end = header.index(label) + len(label)
        assert row[:end].rstrip() == row[:end], (label, row)
        assert row[end : end + 1] in ("", " "), (label, row)
    assert "withheld" in row
