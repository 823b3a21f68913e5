"""The SQL audit store: one row per trail entry, idempotent on ``(case_id, seq)``.

Each new entry also becomes the next leaf of the hub's Merkle log in the same transaction
(:mod:`streams.audit.tree_log` reads the log and its heads).

SQLite (WAL) under ``KAWAL_HOME`` by default; any SQLAlchemy URL (PostgreSQL in production).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from streams.audit import migrations
from streams.audit.entry_writes import Inserted, Offsets, write_entries
from streams.audit.row_shapes import EDITED, is_number
from streams.audit.store_errors import StoreError, cause, engine_for, shown
from streams.audit.stored_text import read_text_leniently
from streams.audit.tables import AuditRow, CaseHead, ConsumedOffset
from streams.private_files import private_sqlite_database

__all__ = ["AuditRow", "AuditStore", "CaseSummary", "Inserted", "StoreError"]

#: How long a reader waits for the sink's write lock on SQLite, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Attempts at creating the schema, and the pause between them (see create_schema).
SCHEMA_ATTEMPTS = 3
SCHEMA_RETRY_SECONDS = 0.5

#: Entries read from the database at a time by :meth:`AuditStore.entries`.
ENTRY_CHUNK = 2_000

#: Name under which the store keeps its positions in ``kawal.case.audit``: the sink and
#: ``kawal replay`` both write them, and the sink resumes from them.
SINK_CONSUMER = "audit-sink"


@dataclass(frozen=True)
class CaseSummary:
    """A case as the store knows it: how many entries, the last type and when."""

    case_id: str
    entries: int
    last_event_type: str
    last_recorded_at: datetime


def _enable_sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a process crash (kill -9); only power loss can lose a commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
    # An edit outside the hub can leave TEXT that is not UTF-8: a finding, not a failed read.
    read_text_leniently(dbapi_connection)


class AuditStore:
    """Reads and idempotent writes of trail entries."""

    def __init__(self, url: str) -> None:
        """Open the store at ``url`` (nothing is connected yet).

        Raises:
            StoreError: ``url`` is not a database URL, or its dialect or driver is unknown.
        """
        self.url = url
        self.engine: Engine = engine_for(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _enable_sqlite_wal)

    def refused(self, doing: str, exc: SQLAlchemyError) -> StoreError:
        """The error to raise when the database refused ``doing``: where, and why."""
        return StoreError(
            f"cannot {doing} the audit store {shown(self.engine.url)}: "
            f"{cause(exc, self.engine.url)}"
        )

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection to read through; the database's refusal raised as a StoreError.

        A table or column gone (a store of an older or foreign schema), a damaged file or a
        lock held too long is then reported with the store and the reason, not as a defect.
        """
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise self.refused("read", exc) from exc

    @classmethod
    def open_existing(cls, url: str) -> AuditStore:
        """The store at ``url`` for reading; never creates one.

        Opening a missing SQLite file would make an empty database, which every reader would
        then take for a store without cases.

        Raises:
            StoreError: nothing at ``url``, no audit tables there, or an unreachable database.
        """
        store = cls(url)
        parsed = store.engine.url
        what_to_do = (
            "start the hub (`kawal up`) or set KAWAL_HOME or KAWAL_AUDIT_DB_URL to the hub's; "
            "a store that was lost is restored from its backup before the hub starts "
            "(docs/operations.md): one the hub rebuilds no longer matches the heads "
            "institutions kept"
        )
        database = parsed.database or ":memory:"
        if parsed.get_backend_name() == "sqlite" and not Path(database).is_file():
            store.close()
            raise StoreError(f"no audit store at {shown(parsed)}: {what_to_do}")
        try:
            present = inspect(store.engine).has_table(AuditRow.__tablename__)
        except SQLAlchemyError as exc:
            store.close()
            raise StoreError(f"{store.refused('open', exc)}; {what_to_do}") from exc
        if not present:
            store.close()
            raise StoreError(f"no audit store at {shown(parsed)}: {what_to_do}")
        return store

    def create_schema(self, home: Path | None = None) -> None:
        """Create or migrate the tables to the newest revision (Alembic).

        The worker and the audit sink both do this when they start, possibly at the same
        moment: the loser of that race finds the tables half-made or locked, and its next
        attempt finds them at the newest revision, with nothing left to do. A SQLite file is
        made (or tightened to) mode 0600 in a 0700 folder before SQLite first writes it.

        Args:
            home: ``KAWAL_HOME``. A SQLite file's missing folder is made only inside it (the
                default store's home may not exist before the first start); a missing folder
                elsewhere is taken for a mistyped URL, not made.

        Raises:
            StoreError: the schema could not be made in three attempts, or a SQLite file's
                folder outside ``home`` does not exist.
            streams.private_files.PrivateFileError: the SQLite file cannot be made private.
        """
        self._check_sqlite_folder(home)
        private_sqlite_database(self.engine.url.get_backend_name(), self.engine.url.database)
        for attempt in range(1, SCHEMA_ATTEMPTS + 1):
            try:
                migrations.upgrade(self.engine)
                return
            except SQLAlchemyError as exc:
                if attempt == SCHEMA_ATTEMPTS:
                    raise StoreError(
                        f"{self.refused('create or migrate the tables of', exc)}; check that "
                        "the database is up and reachable and the URL's user, password and "
                        "database (KAWAL_AUDIT_DB_URL)"
                    ) from exc
                time.sleep(SCHEMA_RETRY_SECONDS)

    def _check_sqlite_folder(self, home: Path | None) -> None:
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return
        folder = Path(str(url.database)).resolve().parent
        inside_home = home is not None and folder.is_relative_to(home.resolve())
        if not folder.is_dir() and not inside_home:
            raise StoreError(
                f"no folder {folder} for the audit store {shown(url)}: create it, or correct "
                "KAWAL_AUDIT_DB_URL"
            )

    def insert(
        self,
        rows: Sequence[dict[str, Any]],
        offsets: Offsets | None = None,
        consumer: str = SINK_CONSUMER,
    ) -> int:
        """Store entries, their leaves and offsets (:meth:`insert_entries`); how many were new."""
        return self.insert_entries(rows, offsets, consumer).new

    def insert_entries(
        self,
        rows: Sequence[dict[str, Any]],
        offsets: Offsets | None = None,
        consumer: str = SINK_CONSUMER,
    ) -> Inserted:
        """Store entries, their leaves and the offsets they came from in one transaction.

        Entries already stored, or earlier in the batch, are ignored, so a batch applied twice
        adds nothing; each new entry becomes the next leaf of the hub's Merkle log
        (:mod:`streams.audit.tree_log`), in the batch's order; an offset only ever moves
        forward. An ignored entry whose hash differs from the one kept at its place is
        returned as a conflict (:mod:`streams.audit.entry_writes`).
        """
        if not rows and not offsets:
            return Inserted(0, ())
        try:
            with self.engine.begin() as conn:
                return write_entries(conn, rows, offsets or {}, consumer)
        except SQLAlchemyError as exc:
            raise self.refused("write to", exc) from exc

    def consumed_offsets(self, consumer: str = SINK_CONSUMER) -> dict[tuple[str, int], int]:
        """Next offset to apply per ``(topic, partition)``, as ``consumer`` last committed.

        Every entry below these offsets is in the store: they were written in the same
        transactions. The audit sink resumes from them (:func:`streams.app.create_sink`).

        Raises:
            StoreError: the store cannot be read.
        """
        query = select(ConsumedOffset).where(ConsumedOffset.consumer == consumer)
        with self.reading() as conn:
            offsets = {
                (row.topic, row.partition): row.next_offset
                for row in conn.execute(query).mappings()
            }
        if not all(is_number(offset) and offset >= 0 for offset in offsets.values()):
            # Resuming from it would seek to no offset at all, and stop the sink's consumer.
            raise StoreError(
                f"the audit store {shown(self.engine.url)} keeps a consumed offset that is no "
                f"offset: {EDITED}; restore consumed_offsets from a backup, or delete its rows "
                "to read kawal.case.audit again from the start (entries are stored once)"
            )
        return offsets

    def heads(self) -> dict[str, tuple[int, str]]:
        """Newest ``(seq, hash)`` of every case, as the writer stored it."""
        with self.reading() as conn:
            return {
                row.case_id: (row.last_seq, row.last_hash)
                for row in conn.execute(select(CaseHead)).mappings()
            }

    def case_head(self, case_id: str) -> tuple[int, str] | None:
        """Newest ``(seq, hash)`` of one case as the writer stored it; None if it stored none."""
        query = select(CaseHead).where(CaseHead.case_id == case_id)
        with self.reading() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else (row.last_seq, row.last_hash)

    def trail(self, case_id: str) -> list[AuditRow]:
        """Every entry of a case, in sequence order.

        Raises:
            StoreError: the store cannot be read.
        """
        query = select(AuditRow).where(AuditRow.case_id == case_id).order_by(AuditRow.seq)
        with self.reading() as conn:
            return [_row_to_entity(row) for row in conn.execute(query).mappings()]

    def entries(self, case_id: str | None = None) -> Iterator[AuditRow]:
        """Every entry (of one case, or all) ordered by case and seq, read in chunks."""
        query = select(AuditRow).order_by(AuditRow.case_id, AuditRow.seq)
        if case_id is not None:
            query = query.where(AuditRow.case_id == case_id)
        with self.reading() as conn:
            result = conn.execution_options(yield_per=ENTRY_CHUNK).execute(query)
            for row in result.mappings():
                yield _row_to_entity(row)

    def events_of_types(self, event_types: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(case_id, event bytes)`` of the entries of ``event_types``, in trail order per case.

        What the projections (statistics, dashboard, register) read: only the event bytes, in
        chunks, never a whole trail in memory.

        Raises:
            StoreError: the store cannot be read.
        """
        query = (
            select(AuditRow.case_id, AuditRow.event)
            .where(AuditRow.event_type.in_(tuple(event_types)))
            .order_by(AuditRow.case_id, AuditRow.seq)
        )
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(yield_per=ENTRY_CHUNK).execute(query)
                for case_id, event in result:
                    yield case_id, bytes(event)
        except SQLAlchemyError as exc:
            raise self.refused("read", exc) from exc

    def cases(self) -> list[CaseSummary]:
        """Every case in the store, most recently updated first."""
        last = (
            select(
                AuditRow.case_id,
                func.count().label("entries"),
                func.max(AuditRow.seq).label("last_seq"),
            )
            .group_by(AuditRow.case_id)
            .subquery()
        )
        query = (
            select(last.c.case_id, last.c.entries, AuditRow.event_type, AuditRow.recorded_at)
            .join(
                AuditRow, (AuditRow.case_id == last.c.case_id) & (AuditRow.seq == last.c.last_seq)
            )
            .order_by(AuditRow.recorded_at.desc())
        )
        with self.reading() as conn:
            return [CaseSummary(*row) for row in conn.execute(query)]

    def recent_cases(self, limit: int) -> list[CaseSummary]:
        """The ``limit`` most recently updated cases, newest first, read from the case heads.

        What a page listing cases needs: a look-up per case head, not a pass over every entry.
        """
        last = (AuditRow.case_id == CaseHead.case_id) & (AuditRow.seq == CaseHead.last_seq)
        query = (
            select(CaseHead.case_id, CaseHead.last_seq, AuditRow.event_type, AuditRow.recorded_at)
            .join(AuditRow, last)
            .order_by(AuditRow.recorded_at.desc())
            .limit(limit)
        )
        with self.reading() as conn:
            # A trail's seqs run 1, 2, ... without a gap: the last one counts its entries.
            return [CaseSummary(*row) for row in conn.execute(query)]

    def case_ids(self) -> set[str]:
        """The id of every case in the store."""
        with self.reading() as conn:
            return set(conn.execute(select(CaseHead.case_id)).scalars())

    def held_event_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Those of ``event_ids`` whose entry the store holds (a trail's ``event_id``).

        Raises:
            StoreError: the store cannot be read.
        """
        query = select(AuditRow.event_id).where(AuditRow.event_id.in_(tuple(event_ids)))
        with self.reading() as conn:
            return set(conn.execute(query).scalars())

    def count(self) -> int:
        """Number of entries in the store.

        Raises:
            StoreError: the store cannot be read (down, dropped, unreachable).
        """
        try:
            with self.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(AuditRow)).scalar_one())
        except SQLAlchemyError as exc:
            raise self.refused("read", exc) from exc

    def answers(self) -> None:
        """Ask the store a trivial query: cheap at any size, unlike :meth:`count`.

        Raises:
            StoreError: the store does not answer (down, dropped, unreachable).
        """
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError as exc:
            raise self.refused("reach", exc) from exc

    def __enter__(self) -> AuditStore:
        """The store, closed when the ``with`` ends (a command's connections go with it)."""
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def _row_to_entity(row: Any) -> AuditRow:
    return AuditRow(**dict(row))
