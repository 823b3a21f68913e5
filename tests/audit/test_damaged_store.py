"""A SQLite audit store damaged outside the hub: every checker reports it at its case and seq.

SQLite keeps any value in any column, so an edit with the ``sqlite3`` shell can leave text that
is not UTF-8, a number where the hub writes text, text where it writes a number. Each is an
entry edited outside the hub: ``kawal audit verify`` and a trail view name its case and seq
and the column, never the value stored there (it may be part of someone's name).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from streams.audit.store import AuditStore
from streams.audit.verify import verify_store
from streams.cli.exits import EXIT_UNVERIFIED
from streams.domain.keyring import KeyRing
from tests.audit.test_head_check import kawal
from tests.audit.treetools import keyring, registry_toml, signed_rows
from tests.storetools import open_store

CASE = "8b2f0c2a-0000-4000-8000-00000000000a"
CLEAN = "8b2f0c2a-0000-4000-8000-00000000000b"
#: What an edit leaves: a name cut in the middle of a character, which is not UTF-8.
NOT_UTF8 = "CAST(X'4275646920ff53616e' AS TEXT)"
NAME = "Budi"
#: Every text column of an entry.
TEXT_COLUMNS = (
    "event_id",
    "event_type",
    "prev_hash",
    "hash",
    "source_topic",
    "disclosures",
    "key_id",
    "hub_key_id",
    "recorded_at",
)


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture
def store(tmp_path: Path, ring: KeyRing) -> Iterator[AuditStore]:
    """A SQLite store of two signed cases."""
    opened = open_store("sqlite", tmp_path, None)
    opened.insert(signed_rows(ring, CASE, 4) + signed_rows(ring, CLEAN, 2))
    yield opened
    opened.close()


def edit(store: AuditStore, table: str, assignment: str, where: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {assignment} WHERE {where}"))


def places(store: AuditStore, ring: KeyRing) -> list[tuple[str, int]]:
    return [(f.case_id, f.seq) for f in verify_store(store, keys=ring.registry).findings]


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_text_that_is_not_utf8_is_found_at_its_entry_naming_the_column(
    store: AuditStore, ring: KeyRing, column: str
) -> None:
    edit(store, "audit_entries", f"{column} = {NOT_UTF8}", f"case_id = '{CASE}' AND seq = 2")

    report = verify_store(store, keys=ring.registry)

    assert [(f.case_id, f.seq) for f in report.findings] == [(CASE, 2)]
    assert column in report.findings[0].reason
    assert NAME not in report.findings[0].reason


def test_a_case_id_that_is_not_utf8_leaves_a_gap_and_names_no_value(
    store: AuditStore, ring: KeyRing
) -> None:
    edit(store, "audit_entries", f"case_id = {NOT_UTF8}", f"case_id = '{CASE}' AND seq = 2")

    findings = verify_store(store, keys=ring.registry).findings

    assert (CASE, 2) in [(f.case_id, f.seq) for f in findings]
    assert all(NAME not in f.case_id + f.reason for f in findings)


@pytest.mark.parametrize("column", ["case_id", "last_hash"])
def test_a_case_head_that_is_not_utf8_is_found(
    store: AuditStore, ring: KeyRing, column: str
) -> None:
    edit(store, "case_heads", f"{column} = {NOT_UTF8}", f"case_id = '{CASE}'")

    findings = verify_store(store, keys=ring.registry).findings

    assert CASE in [f.case_id for f in findings]
    assert all(NAME not in f.case_id + f.reason for f in findings)


#: An edit of an entry's column to a value of a kind the hub never writes there.
WRONG_KINDS = {
    "seq = 'two'": "seq",
    "source_partition = 'zero'": "source_partition",
    "source_offset = 2.5": "source_offset",
    "hash = 12": "hash",
    "event_type = X'ff00'": "event_type",
    "recorded_at = 'yesterday'": "recorded_at",
    "recorded_at = 5": "recorded_at",
    "recorded_at = X'00ff'": "recorded_at",
}


@pytest.mark.parametrize("assignment", WRONG_KINDS)
def test_a_value_of_the_wrong_kind_is_found_at_its_entry(
    store: AuditStore, ring: KeyRing, assignment: str
) -> None:
    edit(store, "audit_entries", assignment, f"case_id = '{CASE}' AND seq = 2")

    report = verify_store(store, keys=ring.registry)

    assert [(f.case_id, f.seq) for f in report.findings] == [(CASE, 2)]
    assert WRONG_KINDS[assignment] in report.findings[0].reason


@pytest.mark.parametrize("disclosures", ["12", "'5'", "'[5]'", "'{not json'"])
def test_disclosures_that_are_not_a_list_of_disclosures_are_found(
    store: AuditStore, ring: KeyRing, disclosures: str
) -> None:
    edit(store, "audit_entries", f"disclosures = {disclosures}", f"case_id = '{CASE}' AND seq = 2")

    assert places(store, ring) == [(CASE, 2)]


@pytest.mark.parametrize("assignment", ["last_seq = 'x'", "last_hash = 7"])
def test_a_case_head_of_the_wrong_kind_is_found(
    store: AuditStore, ring: KeyRing, assignment: str
) -> None:
    edit(store, "case_heads", assignment, f"case_id = '{CASE}'")

    assert places(store, ring) == [(CASE, 4)]


def test_the_commands_report_an_edited_entry_instead_of_failing(
    store: AuditStore, ring: KeyRing, tmp_path: Path
) -> None:
    keys_file = tmp_path / "keys.toml"
    keys_file.write_text(registry_toml(ring), encoding="utf-8")
    edit(store, "audit_entries", f"event_type = {NOT_UTF8}", f"case_id = '{CASE}' AND seq = 2")
    edit(store, "audit_entries", "recorded_at = 'yesterday'", f"case_id = '{CASE}' AND seq = 3")

    verified = kawal(tmp_path, store, keys_file, "audit", "verify")
    trail = kawal(tmp_path, store, keys_file, "case", "trail", CASE)
    as_json = kawal(tmp_path, store, keys_file, "case", "trail", CASE, "--json")

    assert verified.returncode == EXIT_UNVERIFIED, verified.stderr
    assert f"{CASE}: first bad seq 2: its event_type holds bytes that are not UTF-8" in (
        verified.stdout
    )
    assert trail.returncode == EXIT_UNVERIFIED, trail.stderr
    assert "CHAIN BROKEN at seq 2" in trail.stdout
    view = json.loads(as_json.stdout)
    assert (view["verified"], view["first_bad_seq"]) == (False, 2)
    assert [entry.get("error") is not None for entry in view["entries"]] == [
        False,
        True,
        True,
        False,
    ]
    for ran in (verified, trail, as_json):
        assert NAME not in ran.stdout + ran.stderr


@pytest.mark.parametrize("column", ["event", "hub_key_id", "source_offset", "recorded_at"])
def test_no_value_where_the_hub_always_writes_one_is_found(
    store: AuditStore, ring: KeyRing, column: str
) -> None:
    # A table rebuilt by hand (CREATE TABLE ... AS SELECT) keeps no NOT NULL constraint.
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE loose AS SELECT * FROM audit_entries"))
        conn.execute(text("DROP TABLE audit_entries"))
        conn.execute(text("ALTER TABLE loose RENAME TO audit_entries"))
    edit(store, "audit_entries", f"{column} = NULL", f"case_id = '{CASE}' AND seq = 2")

    report = verify_store(store, keys=ring.registry)

    assert [(f.case_id, f.seq) for f in report.findings] == [(CASE, 2)]
    assert f"its {column} holds no value" in report.findings[0].reason
