"""What a connector says of its institution's database it cannot reach: which failure it is.

"decree registry unreachable or busy (OperationalError)" left an operator to tell a database
that is down from a wrong password or host; the driver's own words stay out, as a server's may
quote a row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from connectors.errors import TransientError
from connectors.sql import cause, outage_is_transient
from streams.local.processes import free_port
from tests.postgres import PostgresServer


def failure(url: str) -> OperationalError:
    engine = create_engine(url)
    try:
        with pytest.raises(OperationalError) as failed, engine.connect():
            pass
    finally:
        engine.dispose()
    return failed.value


def test_a_database_nobody_listens_for_is_connection_refused() -> None:
    url = f"postgresql+psycopg://reader:secret@127.0.0.1:{free_port()}/decrees"

    said = cause(failure(url))

    assert said == (
        "OperationalError: connection refused: is the database up, at that host and port?"
    )
    refused = failure(url)
    with (
        pytest.raises(TransientError, match=r"unreachable or busy .*connection refused"),
        outage_is_transient("decree registry"),
    ):
        raise refused


def test_a_missing_user_or_database_is_named(postgres: PostgresServer) -> None:
    url = postgres.create_database("causes")

    missing_database = url.rsplit("/", 1)[0] + "/no_such_db"
    missing_user = url.replace("postgres@", "nobody@", 1)

    assert cause(failure(missing_database)) == "OperationalError: no such database"
    assert cause(failure(missing_user)) == "OperationalError: no such user"


def test_a_file_database_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'registry.db'}"

    assert cause(failure(url)) == "OperationalError: the database file cannot be opened"


def test_a_busy_database_keeps_its_class_alone(tmp_path: Path) -> None:
    locked = sqlite3.OperationalError("database is locked")
    error = OperationalError("SELECT 1", {}, locked)

    assert cause(error) == "OperationalError"
