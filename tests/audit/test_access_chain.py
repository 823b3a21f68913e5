"""The access log as a chain the hub signs, on SQLite and PostgreSQL: a read record deleted,
changed, forged or written around the hub is found; concurrent writers keep one chain.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text, update

from streams.audit.access_chain import GENESIS, chained, verify_access_chain
from streams.audit.access_log import AccessLog
from streams.audit.store import AuditStore
from streams.audit.store_errors import AccessLogError
from streams.audit.tables import AccessLogRow
from streams.domain.keyring import KeyRing
from streams.domain.principals import Principal, PrincipalRole
from tests.audit.treetools import hub_key_at, keyring

CASE = "7a1e0c2a-0000-4000-8000-000000000001"
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
BKN = Principal("bkn", PrincipalRole.INSTITUTION, "tok_1")
#: A read's columns as a writer around the hub inserts them: no place in the chain.
PLAIN_ROW = {
    "read_at": NOW,
    "principal": "bkn",
    "role": "institution",
    "credential": "tok_1",
    "case_id": CASE,
    "fields": "[]",
    "path": "/x",
}


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


def logged(store: AuditStore, ring: KeyRing, count: int) -> AccessLog:
    log = AccessLog(store.engine, hub_key_at(ring))
    for number in range(count):
        log.record(
            BKN, CASE, ["subject_name"], f"/cases/{CASE}/trail", NOW + timedelta(minutes=number)
        )
    return log


def findings(store: AuditStore, ring: KeyRing) -> list[tuple[str, int]]:
    report = verify_access_chain(store.engine, ring.registry)
    return [(finding.code, finding.row_id) for finding in report.findings]


def ids(store: AuditStore) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM access_log ORDER BY id")).scalars())


def test_rows_the_hub_wrote_verify(store: AuditStore, ring: KeyRing) -> None:
    logged(store, ring, 3)

    report = verify_access_chain(store.engine, ring.registry)

    assert (report.ok, report.chained, report.before_chain) == (True, 3, 0)
    assert report.to_json() == {"chained": 3, "before_chain": 0, "verified": True, "findings": []}


def test_a_deleted_row_is_found_at_the_row_after_it(store: AuditStore, ring: KeyRing) -> None:
    logged(store, ring, 4)
    first, second, third, _ = ids(store)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": second})

    assert findings(store, ring) == [("rows_missing", third)]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": first})
    # The first row gone: the new first row does not start the chain.
    assert findings(store, ring) == [("rows_missing", third)]


@pytest.mark.parametrize(
    "change",
    [
        "principal = 'kasn'",
        "fields = '[]'",
        "credential = 'tok_2'",
        "path = '/elsewhere'",
        "case_id = '7a1e0c2a-0000-4000-8000-000000000009'",
    ],
)
def test_a_changed_row_is_found(store: AuditStore, ring: KeyRing, change: str) -> None:
    logged(store, ring, 3)
    _, second, _ = ids(store)
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE access_log SET {change} WHERE id = :id"), {"id": second})

    assert findings(store, ring) == [("row_changed", second)]


def test_a_changed_time_is_found(store: AuditStore, ring: KeyRing) -> None:
    logged(store, ring, 2)
    first, _ = ids(store)
    with store.engine.begin() as conn:
        conn.execute(
            update(AccessLogRow)
            .where(AccessLogRow.id == first)
            .values(read_at=NOW - timedelta(days=30))
        )

    assert findings(store, ring) == [("row_changed", first)]


def test_rows_rewritten_without_the_hubs_key_are_found(store: AuditStore, ring: KeyRing) -> None:
    logged(store, ring, 3)
    first, second, third = ids(store)
    # Whoever holds the store deletes the last two rows and chains one of its own after the
    # first, its hash right, signed with a key of its own under the hub's key id.
    other = keyring().signing_key("kawal", NOW)
    with store.engine.begin() as conn:
        prev = conn.execute(text("SELECT hash FROM access_log WHERE id = :id"), {"id": first})
        kept = prev.scalar_one()
        conn.execute(text("DELETE FROM access_log WHERE id IN (:a, :b)"), {"a": second, "b": third})
        row = PLAIN_ROW | {"read_at": NOW + timedelta(minutes=1), "principal": "kasn"}
        forged = chained(row, kept, other) | {"key_id": ring.signing_key("kawal", NOW).key_id}
        conn.execute(insert(AccessLogRow), forged)
    [_, added] = ids(store)

    assert findings(store, ring) == [("signature_invalid", added)]


def test_a_row_written_around_the_hub_is_found(store: AuditStore, ring: KeyRing) -> None:
    logged(store, ring, 1)
    with store.engine.begin() as conn:
        conn.execute(insert(AccessLogRow), PLAIN_ROW)
    [_, added] = ids(store)

    assert findings(store, ring) == [("unchained", added)]


def test_rows_from_before_the_chain_are_counted_not_checked(
    store: AuditStore, ring: KeyRing
) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(AccessLogRow), [PLAIN_ROW, PLAIN_ROW])
    logged(store, ring, 2)

    report = verify_access_chain(store.engine, ring.registry)

    assert (report.ok, report.chained, report.before_chain) == (True, 2, 2)
    with store.engine.connect() as conn:
        starts = conn.execute(
            text("SELECT count(*) FROM access_log WHERE prev_hash = :g"), {"g": GENESIS}
        )
        assert starts.scalar_one() == 1


def test_writers_at_once_keep_one_chain(store: AuditStore, ring: KeyRing) -> None:
    log = AccessLog(store.engine, hub_key_at(ring))
    errors: list[BaseException] = []

    def write(name: str) -> None:
        reader = Principal(name, PrincipalRole.INSTITUTION, f"tok_{name}")
        try:
            for _ in range(15):
                log.record(reader, CASE, ["summary"], "/t")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("bkn", "kasn", "bawaslu")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = verify_access_chain(store.engine, ring.registry)
    assert (report.ok, report.chained) == (True, 45)


def test_no_read_is_logged_without_the_hubs_key(store: AuditStore) -> None:
    def unavailable(moment: datetime) -> None:
        raise KeyRing.generated([], NOW).signing_key("kawal", moment)  # type: ignore[misc]

    with pytest.raises(AccessLogError, match="opened to be read"):
        AccessLog(store.engine).record(BKN, CASE, ["summary"], "/t")
    with pytest.raises(AccessLogError, match="cannot sign the access log"):
        AccessLog(store.engine, unavailable).record(BKN, CASE, ["summary"], "/t")  # type: ignore[arg-type]
    assert ids(store) == []
