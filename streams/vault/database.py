"""The vault's database: its engine, its schema, and leaving no erased key in a SQLite file.

On SQLite the vault runs like the audit store (WAL, ``synchronous=NORMAL``, a busy timeout)
and with ``secure_delete``, so the bytes of a key erased or rewrapped are overwritten with
zeros in their page instead of left in free space; :func:`scrub` then checkpoints the
write-ahead log into the file and truncates it, so no older copy of the page stays there.
PostgreSQL keeps an erased row as a dead tuple until ``VACUUM`` (docs/envelope-encryption.md).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from schemas.errors import KawalError
from streams.private_files import private_sqlite_database
from streams.sql_engines import connect_args, driver_said, why_unusable
from streams.vault import migrations
from streams.vault.tables import CaseDataKey

#: How long a vault user waits for another's write lock on SQLite, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Attempts at creating the schema, and the pause between them (see create_schema).
SCHEMA_ATTEMPTS = 3
SCHEMA_RETRY_SECONDS = 0.5

log = logging.getLogger(__name__)


class VaultError(KawalError):
    """The vault cannot be reached, read or written, or is asked for something it refuses."""


def failure(action: str, exc: SQLAlchemyError) -> VaultError:
    """A :class:`VaultError` for ``exc``, raised while trying to ``action`` the vault.

    The driver's first line says why (connection refused, password authentication failed);
    the rest of a database error's text can quote the statement's parameters, and the vault's
    parameters are wrapped keys, so it is left out.
    """
    return VaultError(f"cannot {action} the vault: {driver_said(exc)}")


def vault_engine(url: str) -> Engine:
    """An engine on ``url``; on SQLite with the vault's pragmas on every connection.

    A PostgreSQL connection attempt waits :data:`streams.sql_engines.CONNECT_SECONDS`.

    Raises:
        VaultError: ``url`` is not a database URL, or names a dialect or driver that is not
            there (the message hides its password and never repeats a string that is no URL).
    """
    try:
        parsed = make_url(url)
        # Hidden parameters: an error's text never quotes a wrapped key.
        engine = create_engine(parsed, hide_parameters=True, connect_args=connect_args(parsed))
    except (ArgumentError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        raise _unusable(url, exc) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _unusable(url: str, exc: Exception) -> VaultError:
    fix = (
        "set KAWAL_VAULT_URL to a URL of sqlite (sqlite:////var/lib/kawal/vault.db) or "
        "postgresql+psycopg, or unset it for KAWAL_HOME/vault.db"
    )
    try:
        parsed = make_url(url)
    except ArgumentError:
        return VaultError(f"the vault's URL is not a database URL: {fix}")
    reason = why_unusable(exc, parsed.drivername)
    return VaultError(f"cannot use the vault {shown(url)}: {reason}; {fix}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode survives a process crash (kill -9); only power loss can lose a commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # Zeros over deleted content: an erased key's bytes do not linger in the page's free space.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def shown(url: str) -> str:
    """``url`` fit for a message: the password of a PostgreSQL URL hidden."""
    return make_url(url).render_as_string(hide_password=True)


def create_schema(engine: Engine) -> None:
    """Create or migrate the vault's table to the newest revision (Alembic).

    Several processes may start at once; the loser of that race finds the table half-made or
    locked, and its next attempt finds it at the newest revision. A SQLite file is made (or
    tightened to) mode 0600 in a 0700 folder before SQLite first writes it.

    Raises:
        VaultError: the schema could not be made in three attempts.
        streams.private_files.PrivateFileError: the SQLite file cannot be made private.
    """
    private_sqlite_database(engine.url.get_backend_name(), engine.url.database)
    for attempt in range(1, SCHEMA_ATTEMPTS + 1):
        try:
            migrations.upgrade(engine)
            return
        except SQLAlchemyError as exc:
            if attempt == SCHEMA_ATTEMPTS:
                raise failure("create the schema of", exc) from exc
            time.sleep(SCHEMA_RETRY_SECONDS)


def check_exists(url: str, engine: Engine) -> None:
    """Refuse a vault that is not there, rather than take an empty one for it.

    Raises:
        VaultError: no SQLite file, no vault table, or an unreachable database.
    """
    what_to_do = (
        "set KAWAL_HOME or KAWAL_VAULT_URL to the hub's; after a restore, restore the vault "
        "from its backup (with no -wal or -shm file beside it) before `kawal up`, which makes "
        "an empty one; a hub never started has none yet"
    )
    parsed = make_url(url)
    database = parsed.database or ":memory:"
    if parsed.get_backend_name() == "sqlite" and not Path(database).is_file():
        raise VaultError(f"no vault at {shown(url)}: {what_to_do}")
    try:
        present = inspect(engine).has_table(CaseDataKey.__tablename__)
    except SQLAlchemyError as exc:
        raise VaultError(
            f"cannot open the vault {shown(url)} ({driver_said(exc, parsed)}): {what_to_do}"
        ) from exc
    if not present:
        raise VaultError(f"no vault at {shown(url)}: {what_to_do}")


def scrub(engine: Engine) -> None:
    """On SQLite, move every committed page into the file and empty the write-ahead log.

    After an erasure the log still holds earlier images of the key's page; TRUNCATE copies the
    newest image into the file (whose free space ``secure_delete`` zeroed) and cuts the log to
    zero bytes. It waits (busy timeout) for readers of older snapshots; if one still holds on,
    the log is emptied at the next checkpoint instead, and a warning says so.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        busy, _log_frames, _moved = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    if busy:
        log.warning(
            "vault: a reader held the write-ahead log; erased or rewrapped keys leave it at "
            "the next checkpoint"
        )
