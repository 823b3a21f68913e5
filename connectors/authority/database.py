"""The tables the authority connectors share with the authority's database, and how to reach it.

The authority's DBA applies :data:`METADATA` (``METADATA.create_all(engine)`` or the equivalent
DDL): ``outbox`` is written by the authority's own system, ``hub_case_events`` and
``case_status`` only by the ``authority-status`` connector. Every timestamp is UTC; SQLite
keeps none of a zone, so a naive value read back is taken as UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from connectors.errors import TransientError

#: Databases the connectors speak (both have ``INSERT ... ON CONFLICT``).
SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})
#: An id column: BIGINT on PostgreSQL, INTEGER on SQLite (only that one auto-increments there).
BigId = BigInteger().with_variant(Integer(), "sqlite")

METADATA = MetaData()

OUTBOX = Table(
    "outbox",
    METADATA,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_kind", String(64), nullable=False, doc="e.g. 'recommendation.issued'."),
    Column("reported_by", String(64), doc="Institution that first reported the case."),
    Column("case_number", String(128), doc="That institution's own case number."),
    Column("payload", Text, nullable=False, doc="JSON object; fields depend on event_kind."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), doc="Set once the hub has the row."),
    # Ids are never reused after a delete, so a checkpoint never skips a new row.
    sqlite_autoincrement=True,
)

HUB_CASE_EVENTS = Table(
    "hub_case_events",
    METADATA,
    Column("event_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("seq", BigInteger, nullable=False, doc="Position in the case's trail (1-based)."),
    Column("event_type", String(64), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("entry_hash", String(64), nullable=False, doc="Hex SHA-256 of the trail entry."),
    Column("event_json", Text, nullable=False, doc="The event as disclosed to the authority."),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
)

CASE_STATUS = Table(
    "case_status",
    METADATA,
    Column("case_id", String(36), primary_key=True),
    Column("seq", BigInteger, nullable=False, doc="Trail position of the latest event."),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def check_url(raw: str) -> str:
    """``raw`` if it is a SQLAlchemy URL of a supported database.

    Raises:
        ValueError: not a URL, or another database (the message never repeats the URL: it
            may hold a password).
    """
    try:
        url = make_url(raw)
    except sa_exc.ArgumentError:
        raise ValueError(
            "not a SQLAlchemy URL; expected e.g. sqlite:////srv/authority.db or "
            "postgresql+psycopg://user@host/db"
        ) from None
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"database {url.get_backend_name()!r} is not supported; use one of "
            f"{', '.join(sorted(SUPPORTED_BACKENDS))}"
        )
    return raw


def open_engine(raw_url: str, timeout_seconds: float) -> Engine:
    """An engine on the institution's database that never creates it and waits at most so long.

    SQLite is opened read-write but never created (``mode=rw``), so a moved file is an outage
    rather than a new empty database, and without a pool, so each call sees the file as it is
    now. PostgreSQL connections are checked before use and bounded by connect, lock and
    statement timeouts.
    """
    url = make_url(raw_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(
            _never_create(url), poolclass=NullPool, connect_args={"timeout": timeout_seconds}
        )
    millis = int(timeout_seconds * 1000)
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": max(1, round(timeout_seconds)),
            "options": f"-c lock_timeout={millis} -c statement_timeout={millis}",
        },
    )


def _never_create(url: URL) -> URL:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return url
    return url.set(database=f"file:{database}", query={**url.query, "mode": "rw", "uri": "true"})


@contextmanager
def outage_is_transient(system: str) -> Iterator[None]:
    """Turn the database being down, locked or timing out into :class:`TransientError`.

    The message names the driver's error class and SQLSTATE only: server messages can quote
    hosts, users or row values.
    """
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
        raise TransientError(f"{system} unreachable or busy ({cause(exc)})") from exc


def cause(exc: BaseException) -> str:
    """Driver error class (and SQLSTATE) behind a SQLAlchemy error, without its message."""
    original = getattr(exc, "orig", None) or exc
    state = getattr(original, "sqlstate", None)
    return type(original).__name__ + (f" {state}" if state else "")


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive value (SQLite keeps no zone) is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def row_dict(row: Any) -> dict[str, Any]:
    """A result row as a plain dict."""
    return dict(row._mapping)
