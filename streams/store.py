"""The SQL audit store: one row per trail entry, idempotent on ``(case_id, seq)``.

SQLite (WAL) under ``KAWAL_HOME`` by default; any SQLAlchemy URL (PostgreSQL in production).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.errors import KawalError

#: How long a reader waits for the sink's write lock on SQLite, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000


class StoreError(KawalError):
    """The audit store cannot be reached or written."""


class Base(DeclarativeBase):
    """Declarative base of the audit store."""


class AuditRow(Base):
    """One entry of a case's trail, exactly as on ``kawal.case.audit``."""

    __tablename__ = "audit_entries"

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    event: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_topic: Mapped[str] = mapped_column(String(255))
    source_partition: Mapped[int] = mapped_column(Integer)
    source_offset: Mapped[int] = mapped_column(BigInteger)
    #: Personal-data values behind the event's commitments (JSON list of field/salt/value).
    disclosures: Mapped[str] = mapped_column(Text, default="[]")


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


class AuditStore:
    """Reads and idempotent writes of trail entries."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _enable_sqlite_wal)

    def create_schema(self) -> None:
        """Create the tables if they do not exist."""
        try:
            Base.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the audit store schema: {exc.code or exc}") from exc

    def insert(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert entries, ignoring those already stored; return how many were new."""
        if not rows:
            return 0
        statement = self._insert_ignoring_duplicates()
        try:
            with self.engine.begin() as conn:
                result = conn.execute(statement, list(rows))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write to the audit store: {exc.code or exc}") from exc
        return max(result.rowcount, 0)

    def _insert_ignoring_duplicates(self) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(AuditRow).on_conflict_do_nothing()
        return sqlite.insert(AuditRow).on_conflict_do_nothing()

    def trail(self, case_id: str) -> list[AuditRow]:
        """Every entry of a case, in sequence order."""
        query = select(AuditRow).where(AuditRow.case_id == case_id).order_by(AuditRow.seq)
        with self.engine.connect() as conn:
            return [_row_to_entity(row) for row in conn.execute(query).mappings()]

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
        with self.engine.connect() as conn:
            return [CaseSummary(*row) for row in conn.execute(query)]

    def count(self) -> int:
        """Number of entries in the store."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(AuditRow)).scalar_one())

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()


def _row_to_entity(row: Any) -> AuditRow:
    return AuditRow(**dict(row))
