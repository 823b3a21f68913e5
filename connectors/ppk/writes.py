"""How the PPK connectors write into the decree registry: idempotent inserts, one transaction.

Both connectors write rows of their own (``ppk-inbox`` recommendations, subjects and the hub's
refusals; ``ppk-decrees`` its own refusals) and never a decree. An outage is transient; a write
the registry refuses (a table or column it lacks, a privilege its user lacks) is permanent,
and says which tables to check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from connectors.errors import PermanentError, TransientError
from connectors.sql import cause, is_schema_mismatch, outage_is_transient

SYSTEM = "decree registry"


def insert_of(bind: Engine | Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An insert of the registry's dialect, which can skip or update a row already there."""
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@contextmanager
def writing(engine: Engine, tables: str) -> Iterator[Connection]:
    """A transaction on the registry; an outage is transient, a refused write permanent.

    Args:
        engine: The registry's engine.
        tables: The tables the write needs, named in the reason of a refused one.

    Raises:
        TransientError: the registry is down, locked or timed out.
        PermanentError: ``registry_refused``: the registry refused the write.
    """
    try:
        with outage_is_transient(SYSTEM), engine.begin() as connection:
            yield connection
    except TransientError as exc:
        # SQLite says "no such table" with the error class of "database is locked".
        if not is_schema_mismatch(exc.__cause__):
            raise
        raise _refused(exc.__cause__, tables) from exc
    except sa_exc.DBAPIError as exc:
        raise _refused(exc, tables) from exc


def _refused(exc: BaseException | None, tables: str) -> PermanentError:
    """The dead letter of a write the registry refused, naming the driver's error class."""
    return PermanentError(
        "registry_refused",
        f"the decree registry refused the write ({cause(exc or Exception())}); check its "
        f"{tables} against connectors.ppk.database (connectors.ppk.database.upgrade adds what "
        "a registry made before lacks) and the connector user's INSERT privilege on them",
    )
