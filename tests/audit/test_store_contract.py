"""The audit store's contract, run against SQLite and a real PostgreSQL server alike."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from streams.audit import migrations
from streams.audit.store import AuditStore, StoreError
from tests.postgres import PostgresServer
from tests.storetools import chained_rows

CASE = "0b5c6a1e-0000-4000-8000-000000000001"
OTHER = "0b5c6a1e-0000-4000-8000-000000000002"
AUDIT = "kawal.case.audit"


def test_migrations_reach_the_newest_revision(store: AuditStore) -> None:
    assert migrations.current_revision(store.engine) == migrations.head_revision(store.engine)
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "audit_entries",
        "case_heads",
        "consumed_offsets",
        "api_tokens",
        "access_log",
        "alembic_version",
    } <= tables


def test_migrating_twice_changes_nothing(store: AuditStore) -> None:
    store.insert(chained_rows(CASE, 3))
    store.create_schema()
    assert store.count() == 3
    assert migrations.current_revision(store.engine) == migrations.head_revision(store.engine)


def test_a_store_from_before_migrations_is_stamped_and_upgraded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = AuditStore(url)
    migrations.upgrade(old.engine, "0001")
    rows = chained_rows(CASE, 2)
    with old.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text(
                "INSERT INTO audit_entries VALUES (:case_id, :seq, :event_id, :event_type, "
                ":prev_hash, :hash, :event, :recorded_at, :source_topic, :source_partition, "
                ":source_offset, :disclosures)"
            ),
            rows,
        )
    old.create_schema()
    assert migrations.current_revision(old.engine) == migrations.head_revision(old.engine)
    assert old.heads() == {CASE: (2, rows[1]["hash"])}
    old.close()


def test_a_batch_applied_twice_adds_nothing(store: AuditStore) -> None:
    rows = chained_rows(CASE, 5)
    assert store.insert(rows, {(AUDIT, 0): 5}) == 5
    assert store.insert(rows, {(AUDIT, 0): 5}) == 0
    assert store.count() == 5
    assert [row.seq for row in store.trail(CASE)] == [1, 2, 3, 4, 5]


def test_offsets_are_committed_with_the_rows_and_only_move_forward(store: AuditStore) -> None:
    store.insert(chained_rows(CASE, 2), {(AUDIT, 0): 2, (AUDIT, 1): 7})
    store.insert(chained_rows(CASE, 1, start=3), {(AUDIT, 0): 1})
    assert store.consumed_offsets() == {(AUDIT, 0): 2, (AUDIT, 1): 7}
    assert store.consumed_offsets("replay") == {}


def test_a_failing_batch_applies_neither_rows_nor_offsets(store: AuditStore) -> None:
    store.insert(chained_rows(CASE, 1), {(AUDIT, 0): 1})
    bad = chained_rows(OTHER, 2)
    bad[1]["event"] = None  # NOT NULL: the whole transaction must roll back
    with pytest.raises(StoreError):
        store.insert(bad, {(AUDIT, 0): 3})
    assert store.count() == 1
    assert store.consumed_offsets() == {(AUDIT, 0): 1}
    assert OTHER not in store.heads()


def test_heads_follow_the_newest_entry_even_out_of_order(store: AuditStore) -> None:
    rows = chained_rows(CASE, 4)
    store.insert(rows[2:])
    store.insert(rows[:2])
    assert store.heads() == {CASE: (4, rows[3]["hash"])}


def test_entries_and_cases_read_back_in_order(store: AuditStore) -> None:
    store.insert(chained_rows(OTHER, 2) + chained_rows(CASE, 3))
    assert [(row.case_id, row.seq) for row in store.entries()] == [
        (CASE, 1),
        (CASE, 2),
        (CASE, 3),
        (OTHER, 1),
        (OTHER, 2),
    ]
    assert [row.seq for row in store.entries(OTHER)] == [1, 2]
    summaries = {summary.case_id: summary for summary in store.cases()}
    assert summaries[CASE].entries == 3
    assert summaries[CASE].last_event_type == "CaseRegistered"
    assert store.trail(CASE)[0].event == chained_rows(CASE, 1)[0]["event"]


def test_recent_cases_are_the_newest_heads_and_agree_with_every_case(store: AuditStore) -> None:
    third = "0b5c6a1e-0000-4000-8000-000000000003"
    # Recorded at second 3 (CASE), 2 (OTHER) and 4 (third) of the same minute.
    store.insert(chained_rows(OTHER, 2) + chained_rows(CASE, 3) + chained_rows(third, 4))

    recent = store.recent_cases(2)

    assert [summary.case_id for summary in recent] == [third, CASE]
    assert recent == store.cases()[:2]
    assert store.case_ids() == {CASE, OTHER, third}
    assert [summary.entries for summary in store.recent_cases(10)] == [4, 3, 2]


def test_moments_read_back_in_utc_with_their_zone(store: AuditStore) -> None:
    # Written as 15:00 in Jakarta (UTC+7): the same moment comes back, as 08:00 UTC.
    jakarta = timezone(timedelta(hours=7))
    rows = chained_rows(CASE, 1)
    rows[0]["recorded_at"] = datetime(2024, 11, 1, 15, 0, tzinfo=jakarta)
    store.insert(rows)

    [row] = store.trail(CASE)
    [summary] = store.cases()

    assert row.recorded_at.isoformat() == "2024-11-01T08:00:00+00:00"
    assert summary.last_recorded_at.isoformat() == "2024-11-01T08:00:00+00:00"


def test_an_unreachable_store_raises_store_error(postgres: PostgresServer) -> None:
    unreachable = AuditStore("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="cannot write to the audit store"):
        unreachable.insert(chained_rows(CASE, 1))
    unreachable.close()


def test_processes_creating_the_schema_at_once_all_succeed(tmp_path: Path) -> None:
    # The worker and the audit sink both create the schema when they start, often together.
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    create = f"from streams.audit.store import AuditStore; AuditStore({url!r}).create_schema()"
    processes = [
        subprocess.Popen([sys.executable, "-c", create], stderr=subprocess.PIPE) for _ in range(4)
    ]
    errors = [process.communicate(timeout=60)[1].decode() for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors
    assert AuditStore(url).count() == 0
