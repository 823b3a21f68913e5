"""What an operator is told when the audit store's URL or database refuses: where, and why.

Every message names the store by its URL with the password hidden, and the cause in the
database driver's own words (connection refused, no such host, unknown dialect), first line
only: the lines after it (PostgreSQL's ``DETAIL``) and SQLAlchemy's text (the statement and its
parameters) can quote the values of a row, which may be personal data.
"""

from __future__ import annotations

from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from schemas.errors import KawalError
from streams.sql_engines import connect_args, driver_said, why_unusable

#: The databases the audit store runs on, each with an example URL.
SUPPORTED = (
    "sqlite (sqlite:////var/lib/kawal/audit.db)",
    "postgresql+psycopg (postgresql+psycopg://kawal@audit-db/kawal)",
)
#: What to do about a URL that does not work, after the reason.
FIX_THE_URL = "set KAWAL_AUDIT_DB_URL to a URL of " + " or ".join(SUPPORTED)


class StoreError(KawalError):
    """The audit store cannot be reached or written."""


def parsed_url(url: str) -> URL:
    """``url`` parsed, or a StoreError that does not repeat it (it may hold a password).

    Raises:
        StoreError: ``url`` is not a database URL.
    """
    try:
        return make_url(url)
    except ArgumentError:
        raise StoreError(f"the audit store's URL is not a database URL: {FIX_THE_URL}") from None


def shown(url: str | URL) -> str:
    """``url`` as it may be printed: its password hidden."""
    parsed = parsed_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def engine_for(url: str) -> Engine:
    """An engine on ``url``; nothing is connected yet.

    A PostgreSQL connection attempt waits :data:`streams.sql_engines.CONNECT_SECONDS`.

    Raises:
        StoreError: ``url`` is not a database URL, names a dialect SQLAlchemy does not know, or
            a driver that is not installed.
    """
    parsed = parsed_url(url)
    try:
        # Hidden parameters: an error's text never quotes a row's values (personal data).
        return create_engine(parsed, hide_parameters=True, connect_args=connect_args(parsed))
    except (ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        reason = why_unusable(exc, parsed.drivername)
    raise StoreError(f"cannot use the audit store {shown(parsed)}: {reason}; {FIX_THE_URL}")


def cause(exc: SQLAlchemyError, url: URL) -> str:
    """Why the database refused, in the driver's words (first line), the password left out."""
    return driver_said(exc, url)


class AccessLogError(StoreError):
    """The access log cannot be written: a personal-data read must then not be served."""
