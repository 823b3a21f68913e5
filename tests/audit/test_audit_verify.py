"""Tamper battery: every kind of tampering is found at the right case and sequence number."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.store import AuditStore
from streams.audit.verify import verify_store
from streams.domain.chain import entry_hash
from streams.domain.entries import fields_of
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from tests.entrytools import signed_rows, signing_registry
from tests.hubtools import report, until_referral
from tests.storetools import chained_rows, kawal_in, open_store

CASE = "5e1f0c2a-0000-4000-8000-00000000000a"
CLEAN = "5e1f0c2a-0000-4000-8000-00000000000b"
ENTRIES = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    """A store of each dialect holding two verified cases."""
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    opened = open_store(request.param, tmp_path, server)
    opened.insert(chained_rows(CASE, ENTRIES) + chained_rows(CLEAN, 3))
    yield opened
    opened.close()


def _sql(store: AuditStore, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def _event_at(store: AuditStore, seq: int) -> bytes:
    return next(row.event for row in store.trail(CASE) if row.seq == seq)


def flip_a_byte(store: AuditStore) -> None:
    event = bytearray(_event_at(store, 3))
    event[5] ^= 0x01
    _sql(
        store,
        "UPDATE audit_entries SET event = :e WHERE case_id = :c AND seq = 3",
        e=bytes(event),
        c=CASE,
    )


def truncate_an_event(store: AuditStore) -> None:
    event = _event_at(store, 3)
    _sql(
        store,
        "UPDATE audit_entries SET event = :e WHERE case_id = :c AND seq = 3",
        e=event[:-4],
        c=CASE,
    )


def delete_an_entry(store: AuditStore) -> None:
    _sql(store, "DELETE FROM audit_entries WHERE case_id = :c AND seq = 3", c=CASE)


def reorder_two_entries(store: AuditStore) -> None:
    for old, new in [(3, -3), (4, 3), (-3, 4)]:
        _sql(
            store,
            "UPDATE audit_entries SET seq = :n WHERE case_id = :c AND seq = :o",
            n=new,
            o=old,
            c=CASE,
        )


def insert_an_entry(store: AuditStore) -> None:
    """Replay entry 1 (its own valid hashes) as a new entry 3, shifting the rest up."""
    for seq in range(ENTRIES, 2, -1):
        _sql(
            store,
            "UPDATE audit_entries SET seq = :n WHERE case_id = :c AND seq = :o",
            n=seq + 1,
            o=seq,
            c=CASE,
        )
    forged = chained_rows(CASE, 1)[0] | {"seq": 3, "event_id": "forged"}
    columns = ", ".join(forged)
    values = ", ".join(f":{name}" for name in forged)
    _sql(store, f"INSERT INTO audit_entries ({columns}) VALUES ({values})", **forged)


def truncate_the_trail(store: AuditStore) -> None:
    _sql(store, "DELETE FROM audit_entries WHERE case_id = :c AND seq >= 3", c=CASE)


def rewrite_from_an_entry(store: AuditStore) -> None:
    """Change entry 3 and recompute every hash after it: only the head still disagrees."""
    rows = store.trail(CASE)
    prev = rows[1].hash
    for row in rows[2:]:
        event = row.event + b"!" if row.seq == 3 else row.event
        new_hash = entry_hash(replace(fields_of(vars(row)), event=event, prev_hash=prev))
        _sql(
            store,
            "UPDATE audit_entries SET event = :e, prev_hash = :p, hash = :h "
            "WHERE case_id = :c AND seq = :s",
            e=event,
            p=prev,
            h=new_hash,
            c=CASE,
            s=row.seq,
        )
        prev = new_hash


TAMPERING: dict[str, tuple[Callable[[AuditStore], None], int]] = {
    "flip a byte": (flip_a_byte, 3),
    "truncate an event": (truncate_an_event, 3),
    "delete an entry": (delete_an_entry, 3),
    "reorder two entries": (reorder_two_entries, 3),
    "insert an entry": (insert_an_entry, 3),
    "truncate the trail": (truncate_the_trail, 3),
    "rewrite the chain after an entry": (rewrite_from_an_entry, ENTRIES),
}


def test_an_untouched_store_verifies(store: AuditStore) -> None:
    report = verify_store(store)
    assert report.ok
    assert (report.cases, report.entries) == (2, ENTRIES + 3)


@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_is_found_at_its_case_and_seq(store: AuditStore, kind: str) -> None:
    tamper, bad_seq = TAMPERING[kind]
    tamper(store)
    report = verify_store(store)
    assert [(finding.case_id, finding.seq) for finding in report.findings] == [(CASE, bad_seq)]
    assert verify_store(store, CLEAN).ok


@pytest.mark.parametrize(
    "edit",
    [
        "event = event || '!'",  # SQL's string functions make the bytes TEXT
        "event = CAST(X'c301ff00' AS TEXT)",  # TEXT that is not UTF-8
        "event = 'forged'",  # TEXT that is UTF-8
        "signature = signature || '!'",
    ],
)
def test_bytes_edited_into_text_in_sqlite_are_found_not_a_crash(tmp_path: Path, edit: str) -> None:
    # SQLite keeps any value in any column: an edit with a string function stores TEXT where
    # the hub wrote a BLOB, which the sqlite3 module decodes as UTF-8 (and fails on) or
    # returns as str. The verifier must read the bytes and find the entry, not stop.
    store = open_store("sqlite", tmp_path, None)
    store.insert(chained_rows(CASE, ENTRIES) + chained_rows(CLEAN, 3))
    _sql(store, f"UPDATE audit_entries SET {edit} WHERE case_id = :c AND seq = 3", c=CASE)
    with store.engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT typeof(event), typeof(signature) FROM audit_entries WHERE seq = 3"
                " AND case_id = :c"
            ),
            {"c": CASE},
        ).one()
    assert "text" in stored

    findings = verify_store(store).findings

    assert [(finding.case_id, finding.seq) for finding in findings] == [(CASE, 3)]
    assert all(isinstance(row.event, bytes) for row in store.trail(CASE))
    store.close()


def test_a_case_whose_entries_are_all_gone_is_reported(store: AuditStore) -> None:
    _sql(store, "DELETE FROM audit_entries WHERE case_id = :c", c=CASE)
    findings = verify_store(store).findings
    assert [(finding.case_id, finding.seq) for finding in findings] == [(CASE, 1)]


def test_cli_exits_non_zero_naming_the_case_and_seq(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    store = AuditStore(f"sqlite:///{home / 'audit.db'}")
    store.create_schema()
    settings = Settings(home=home)
    ensure_local_keys(settings)
    codec, ring = AvroCodec(default_catalog()), keyring_of(settings)
    broken_case, clean_case = (
        [first, *(r for _, r in until_referral(first["envelope"]["case_id"]))]
        for first in (report("bawaslu.33"), report("bawaslu.33"))
    )
    case, clean = broken_case[0]["envelope"]["case_id"], clean_case[0]["envelope"]["case_id"]
    store.insert(signed_rows(codec, broken_case, ring) + signed_rows(codec, clean_case, ring))

    verified = kawal_in(home, "audit", "verify")
    assert verified.returncode == 0, verified.stdout
    assert "2 cases" in verified.stdout

    _sql(store, "DELETE FROM audit_entries WHERE case_id = :c AND seq = 3", c=case)
    broken = kawal_in(home, "audit", "verify")
    assert broken.returncode == 4
    assert f"{case}: first bad seq 3" in broken.stdout
    as_json = json.loads(kawal_in(home, "audit", "verify", "--json").stdout)
    assert as_json["findings"] == [
        {"case_id": case, "seq": 3, "reason": as_json["findings"][0]["reason"]}
    ]
    assert kawal_in(home, "audit", "verify", clean).returncode == 0
    assert kawal_in(home, "audit", "verify", str(uuid.uuid4())).returncode == 3
    assert kawal_in(home, "audit", "verify", "no-such-case").returncode == 2  # no UUID: usage
    store.close()


#: A column a view shows, and a value it could be edited to.
DISPLAYED_EDITS = {
    "event_type": "CaseClosed",
    "event_id": "00000000-0000-4000-8000-000000000000",
    "recorded_at": datetime(2030, 1, 1, tzinfo=UTC),
    "source_topic": "kawal.inbound.bkn",
    "source_offset": 9_999,
    "key_id": "bkn/0000000000000000",
    "disclosures": '[{"field": "summary", "salt": "' + "00" * 16 + '", "value": "forged"}]',
}


@pytest.mark.parametrize("column", DISPLAYED_EDITS)
def test_editing_any_displayed_column_of_a_signed_trail_is_found(
    tmp_path: Path, column: str
) -> None:
    codec = AvroCodec(default_catalog())
    signed = open_store("sqlite", tmp_path, None)
    first = report("bawaslu.33")
    case_id = first["envelope"]["case_id"]
    signed.insert(signed_rows(codec, [first, *(r for _, r in until_referral(case_id))]))
    assert verify_store(signed, keys=signing_registry()).ok

    _sql(
        signed,
        f"UPDATE audit_entries SET {column} = :v WHERE case_id = :c AND seq = 1",
        v=DISPLAYED_EDITS[column],
        c=case_id,
    )

    findings = verify_store(signed, keys=signing_registry()).findings
    assert [(finding.case_id, finding.seq) for finding in findings] == [(case_id, 1)]
