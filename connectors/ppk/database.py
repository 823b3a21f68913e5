"""The PPK's decree registry as the ``ppk-decrees`` connector sees it, and how to reach it.

The registry owns ``decrees``; the connector only reads it, and only the columns in
:data:`READ_COLUMNS` (never the civil servant's name or NIP, which the registry also keeps).
``change_seq`` is the registry's change sequence: every insert or update of a decree takes the
next value of the ``change_counter`` row inside the same transaction (see
:mod:`connectors.ppk.connector` for why the connector needs exactly that). Every timestamp is
UTC; SQLite keeps none of a zone, so a naive value read back is taken as UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from connectors.errors import TransientError

#: Databases the connector speaks.
SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})
#: Decree statuses: a draft is not final, a signed decree is, a revoked one no longer holds.
DRAFT, SIGNED, REVOKED = "DRAFT", "SIGNED", "REVOKED"

METADATA = MetaData()

DECREES = Table(
    "decrees",
    METADATA,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("decree_number", String(64), unique=True, doc="Assigned when the PPK signs."),
    Column("reported_by", String(64), doc="Case reference: institution that first reported it."),
    Column("case_number", String(128), doc="Case reference: that institution's case number."),
    Column("subject_nip", String(18), nullable=False, doc="Personal data; never read."),
    Column("subject_name", String(128), nullable=False, doc="Personal data; never read."),
    Column("sanction_level", String(32), doc="kawal.SanctionLevel symbol (PP 94/2021 Art. 8)."),
    Column("sanction_kind", String(64), doc="kawal.SanctionKind symbol."),
    Column("effective_on", Date),
    Column("status", String(16), nullable=False, doc="DRAFT, SIGNED or REVOKED."),
    Column("signed_at", DateTime(timezone=True)),
    Column("signed_by", String(64), doc="Internal user id of the signing official."),
    Column("change_seq", BigInteger, nullable=False, unique=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

CHANGE_COUNTER = Table(
    "change_counter",
    METADATA,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: What the connector reads of a decree: enough for the event and for its reasons.
READ_COLUMNS = tuple(
    DECREES.c[name]
    for name in (
        "id",
        "decree_number",
        "reported_by",
        "case_number",
        "sanction_level",
        "sanction_kind",
        "effective_on",
        "status",
        "signed_at",
        "signed_by",
        "change_seq",
    )
)


def check_url(raw: str) -> str:
    """``raw`` if it is a SQLAlchemy URL of a supported database.

    Raises:
        ValueError: not a URL, or another database (never repeating the URL: it may hold a
            password).
    """
    try:
        url = make_url(raw)
    except sa_exc.ArgumentError:
        raise ValueError(
            "not a SQLAlchemy URL; expected e.g. sqlite:////srv/decrees.db or "
            "postgresql+psycopg://user@host/db"
        ) from None
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"database {url.get_backend_name()!r} is not supported; use one of "
            f"{', '.join(sorted(SUPPORTED_BACKENDS))}"
        )
    return raw


def open_engine(raw_url: str, timeout_seconds: float) -> Engine:
    """An engine on the registry that never creates it and waits at most ``timeout_seconds``.

    SQLite opens read-write but never creates the file (a moved file is an outage, not a new
    empty registry) and without a pool (each read sees the file as it is now); PostgreSQL
    connections are checked before use and bounded by connect, lock and statement timeouts.
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
def outage_is_transient() -> Iterator[None]:
    """The registry down, locked or timing out → :class:`TransientError` (no server message)."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
        original = getattr(exc, "orig", None) or exc
        state = getattr(original, "sqlstate", None)
        raise TransientError(
            f"decree registry unreachable or busy ({type(original).__name__}"
            f"{f' {state}' if state else ''})"
        ) from exc


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive value (SQLite keeps no zone) is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
