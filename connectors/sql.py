"""What the SQL-backed connectors share: their URLs, engines and how outages look.

Institutions' databases (the authority's case management, the PPK's decree registry) are
SQLite or PostgreSQL; a connector opens them without ever creating them, with bounded waits,
and reports an outage as :class:`~connectors.errors.TransientError` without server messages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from sqlalchemy import Engine, create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from connectors.base import ConnectorConfig, check_zone
from connectors.errors import TransientError

#: Databases the connectors speak (both have ``INSERT ... ON CONFLICT``).
SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})


def check_url(raw: str, example_file: str) -> str:
    """``raw`` if it is a SQLAlchemy URL of a supported database.

    Args:
        raw: The configured URL.
        example_file: SQLite file name shown in the example of the error message.

    Raises:
        ValueError: not a URL, or another database (the message never repeats the URL: it
            may hold a password).
    """
    try:
        url = make_url(raw)
    except sa_exc.ArgumentError:
        raise ValueError(
            f"not a SQLAlchemy URL; expected e.g. sqlite:////srv/{example_file} or "
            "postgresql+psycopg://user@host/db"
        ) from None
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"database {url.get_backend_name()!r} is not supported; use one of "
            f"{', '.join(sorted(SUPPORTED_BACKENDS))}"
        )
    return raw


class DatabaseConfig(ConnectorConfig):
    """Where an institution's database is, and how it keeps its times."""

    #: SQLite file name shown in the example of a bad URL's message.
    example_file: ClassVar[str] = "institution.db"

    database_url: SecretStr
    """SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg://...``); may hold a password."""
    timeout_seconds: float = Field(default=5.0, gt=0)
    """Longest wait to connect, for a lock or for one statement."""
    timezone: str = "UTC"
    """IANA zone of the times the database keeps without one (SQLite's, PostgreSQL's
    ``timestamp without time zone``): ``Asia/Jakarta`` for a system that stores WIB wall time.
    A zone-aware column (``timestamptz``) carries its own."""

    @field_validator("database_url")
    @classmethod
    def _supported(cls, value: SecretStr) -> SecretStr:
        check_url(value.get_secret_value(), cls.example_file)
        return value

    @field_validator("timezone")
    @classmethod
    def _is_zone(cls, value: str) -> str:
        return check_zone(value)

    @property
    def zone(self) -> tzinfo:
        """The zone of the database's times without one."""
        return ZoneInfo(self.timezone)

    def engine(self) -> Engine:
        """An engine on the database (:func:`open_engine`), its sessions in :attr:`timezone`."""
        return open_engine(
            self.database_url.get_secret_value(), self.timeout_seconds, self.timezone
        )


def open_engine(raw_url: str, timeout_seconds: float, timezone: str = "UTC") -> Engine:
    """An engine on the institution's database that never creates it and waits at most so long.

    SQLite is opened read-write but never created (``mode=rw``), so a moved file is an outage
    rather than a new empty database, and without a pool, so each call sees the file as it is
    now. PostgreSQL connections are checked before use and bounded by connect, lock and
    statement timeouts; their session ``TimeZone`` is ``timezone``, the zone PostgreSQL
    converts in between ``timestamptz`` and ``timestamp without time zone``.
    """
    url = make_url(raw_url)
    if url.get_backend_name() == "sqlite":
        return create_engine(
            _never_create(url),
            poolclass=NullPool,
            connect_args={"timeout": timeout_seconds},
            hide_parameters=True,
        )
    millis = int(timeout_seconds * 1000)
    return create_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": max(1, round(timeout_seconds)),
            "options": (
                f"-c lock_timeout={millis} -c statement_timeout={millis} -c timezone={timezone}"
            ),
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


#: How SQLite words a table or column that is not there, under the error class it also uses
#: for "database is locked": a schema that does not match, not an outage.
SQLITE_SCHEMA_MISMATCH = ("no such table", "no such column", "has no column named")


def is_schema_mismatch(exc: BaseException | None) -> bool:
    """Whether ``exc`` is SQLite refusing a statement for a table or column it does not have."""
    original = getattr(exc, "orig", None)
    if not isinstance(original, sqlite3.OperationalError):
        return False
    return any(words in str(original) for words in SQLITE_SCHEMA_MISMATCH)


def cause(exc: BaseException) -> str:
    """Driver error class (and SQLSTATE) behind a SQLAlchemy error, without its message.

    A failure to connect is named in the hub's words too (refused, host unknown, timed out,
    password refused, no such database): "unreachable" alone leaves an operator to guess which,
    and the driver's own words are not shown, as a server's may quote a row.
    """
    original = getattr(exc, "orig", None) or exc
    state = getattr(original, "sqlstate", None)
    named = type(original).__name__ + (f" {state}" if state else "")
    words = str(original).lower()
    kind = next(
        (kind for parts, kind in _CONNECTION_FAILURES if all(part in words for part in parts)),
        None,
    )
    return f"{named}: {kind}" if kind else named


#: Words of the drivers' messages for a connection that failed, and what each means to an
#: operator (the server's own words are not shown: they may quote a user, a host or a row).
_CONNECTION_FAILURES = (
    (("connection refused",), "connection refused: is the database up, at that host and port?"),
    (("could not translate host name",), "the host name is not known"),
    (("name or service not known",), "the host name is not known"),
    (("timeout expired",), "the connection timed out"),
    (("password authentication failed",), "the password was refused"),
    (('role "', "does not exist"), "no such user"),
    (('database "', "does not exist"), "no such database"),
    (("unable to open database file",), "the database file cannot be opened"),
)


def row_dict(row: Any) -> dict[str, Any]:
    """A result row as a plain dict."""
    return dict(row._mapping)
