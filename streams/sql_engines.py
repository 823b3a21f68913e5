"""How long a connection attempt waits, and why an engine or a database refused, for an operator.

The audit store and the vault each name their own URL setting; the reason is the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

#: Seconds a PostgreSQL connection attempt waits for the server (libpq's ``connect_timeout``).
#: A connection takes milliseconds, a few seconds on a loaded machine; without a deadline one
#: to a frozen server (its processes stopped) waits for ever, and one to an address that drops
#: packets waits out TCP's retries (about 130 s), where the callers' outage handling (503,
#: retries, ``kawal_audit_store_up``, ``kawal_vault_up``) should take over. Under the checks'
#: ten seconds (:data:`streams.hub.store_check.ANSWER_SECONDS`).
CONNECT_SECONDS = 5


def connect_args(url: URL) -> dict[str, Any]:
    """What the driver is given beside ``url``: a PostgreSQL connect deadline.

    A ``connect_timeout`` the URL names itself (``?connect_timeout=3``) is the operator's and
    is kept; SQLite opens a file and needs none.
    """
    if url.get_backend_name() != "postgresql" or "connect_timeout" in url.query:
        return {}
    return {"connect_timeout": CONNECT_SECONDS}


def why_unusable(exc: Exception, dialect: str) -> str:
    """The reason ``create_engine`` raised ``exc`` for a URL of ``dialect``.

    ``exc`` is what it raises for a URL it cannot use: ``NoSuchModuleError`` (an unknown
    dialect), ``ImportError`` (a known dialect whose driver is not installed) or another
    ``ArgumentError``, named by its type only (its text can repeat the URL).
    """
    if isinstance(exc, NoSuchModuleError):
        return f"no database dialect {dialect!r}"
    if isinstance(exc, ImportError):
        return f"the driver {exc.name or dialect} of {dialect} is not installed"
    return f"SQLAlchemy refuses it ({type(exc).__name__})"


def driver_said(exc: SQLAlchemyError, url: URL | None = None) -> str:
    """Why the database refused, in the driver's words (first line), the password left out.

    The first line says what happened (connection refused, password authentication failed,
    no such table); the lines after it (PostgreSQL's ``DETAIL``) and SQLAlchemy's own text (the
    statement and its parameters) can quote the values of a row, which may be personal data or
    a wrapped key. SQLAlchemy's error code (``e3q8``) tells an operator nothing, so it is not
    used.
    """
    if isinstance(exc, DBAPIError) and str(exc.orig).strip():
        said = str(exc.orig).strip().splitlines()[0].strip()
    else:
        said = type(exc).__name__
    if url is not None and url.password:
        said = said.replace(str(url.password), "***")
    return said
