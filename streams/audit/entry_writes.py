"""One write of the audit store: entries, their Merkle leaves, case heads and offsets.

The audit sink and ``kawal replay`` apply batches read from ``kawal.case.audit``, which holds
every entry at least once: a worker that crashed after producing an entry produces it again,
and after a restart the sink can read both copies in one batch. So a write ignores an entry
whose place ``(case_id, seq)`` is already stored or earlier in its batch, and reports one whose
hash differs from the entry kept there: a conflict, which the store never overwrites.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from streams.audit.row_shapes import EDITED, is_number, kind_of
from streams.audit.store_errors import StoreError
from streams.audit.tables import AuditRow, CaseHead, ConsumedOffset, TreeLeaf

#: ``(topic, partition)`` → next offset to apply.
Offsets = Mapping[tuple[str, int], int]
#: An entry's place in its case's trail: ``(case_id, seq)``.
Place = tuple[str, int]


@dataclass(frozen=True)
class Inserted:
    """What a write did: how many entries were new, and the places kept with another hash."""

    new: int
    #: Each place of the batch that the store holds with an entry of another hash.
    conflicts: tuple[Place, ...]


def write_entries(
    conn: Connection, rows: Sequence[dict[str, Any]], offsets: Offsets, consumer: str
) -> Inserted:
    """Apply a batch through ``conn``, inside the caller's transaction."""
    first: dict[Place, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(_place(row), row)
    inserted = _insert_rows(conn, list(first.values()))
    _append_leaves(conn, inserted)
    _advance_heads(conn, (first[place] for place in inserted))
    _advance_offsets(conn, consumer, offsets)
    conflicts = _conflicts(conn, rows) if len(inserted) < len(rows) else ()
    return Inserted(len(inserted), conflicts)


def _place(row: Mapping[str, Any]) -> Place:
    return row["case_id"], row["seq"]


def _dialect_insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _insert_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[Place]:
    """Insert the entries not stored yet (one per place); return their places in batch order."""
    if not rows:
        return []
    # What RETURNING gives back: executemany's rowcount is not reliable everywhere.
    statement = _dialect_insert(conn, AuditRow).on_conflict_do_nothing()
    returned = conn.execute(statement.returning(AuditRow.case_id, AuditRow.seq), list(rows))
    new = {(case_id, seq) for case_id, seq in returned}
    # The batch's order, not RETURNING's, which no dialect promises: it orders the leaves.
    return [place for row in rows if (place := _place(row)) in new]


def _append_leaves(conn: Connection, places: Sequence[Place]) -> None:
    """Place entries just inserted through ``conn`` at the log's end, in order.

    On SQLite the entries' insert already took the write lock, so no other writer takes
    the same indexes; on PostgreSQL a concurrent writer that did fails on the primary key
    and its batch is retried whole.
    """
    if not places:
        return
    last = conn.execute(select(func.max(TreeLeaf.log_index))).scalar_one()
    if last is not None and not is_number(last):
        # SQLite sorts text above every number: an index edited into text is the "largest".
        raise StoreError(
            f"the store's log holds a leaf whose index is {kind_of(last)}, not a count: {EDITED}; "
            "no entry is stored until the log is restored from a backup"
        )
    start = 0 if last is None else last + 1
    values = [
        {"log_index": start + offset, "case_id": case_id, "seq": seq}
        for offset, (case_id, seq) in enumerate(places)
    ]
    conn.execute(insert(TreeLeaf), values)


def _advance_heads(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        known = newest.get(row["case_id"])
        if known is None or row["seq"] > known["last_seq"]:
            newest[row["case_id"]] = {
                "case_id": row["case_id"],
                "last_seq": row["seq"],
                "last_hash": row["hash"],
            }
    if not newest:
        return
    upsert = _dialect_insert(conn, CaseHead)
    statement = upsert.on_conflict_do_update(
        index_elements=[CaseHead.case_id],
        set_={"last_seq": upsert.excluded.last_seq, "last_hash": upsert.excluded.last_hash},
        where=upsert.excluded.last_seq > CaseHead.last_seq,
    )
    conn.execute(statement, list(newest.values()))


def _advance_offsets(conn: Connection, consumer: str, offsets: Offsets) -> None:
    if not offsets:
        return
    upsert = _dialect_insert(conn, ConsumedOffset)
    statement = upsert.on_conflict_do_update(
        index_elements=list(ConsumedOffset.__table__.primary_key),
        set_={"next_offset": upsert.excluded.next_offset},
        where=upsert.excluded.next_offset > ConsumedOffset.next_offset,
    )
    values = [
        {"consumer": consumer, "topic": topic, "partition": partition, "next_offset": offset}
        for (topic, partition), offset in offsets.items()
    ]
    conn.execute(statement, values)


def _conflicts(conn: Connection, rows: Sequence[dict[str, Any]]) -> tuple[Place, ...]:
    """The places of ``rows`` the store holds with another hash than the row's."""
    places = {_place(row) for row in rows}
    query = select(AuditRow.case_id, AuditRow.seq, AuditRow.hash).where(
        tuple_(AuditRow.case_id, AuditRow.seq).in_(places)
    )
    stored = {(case_id, seq): hash_ for case_id, seq, hash_ in conn.execute(query)}
    found = (_place(row) for row in rows if stored.get(_place(row), row["hash"]) != row["hash"])
    return tuple(dict.fromkeys(found))
