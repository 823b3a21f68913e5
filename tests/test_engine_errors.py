"""No database error's text quotes a statement's parameters, which can be personal data."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from connectors.sql import open_engine
from streams.audit.store_errors import engine_for
from streams.vault.database import vault_engine

CANARY = "Siti Canary 198501012010011001"


def _sqlite_file(path: Path) -> str:
    sqlite3.connect(path).close()  # the institution's engine opens a database, never makes one
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "engine_of",
    [
        lambda path: engine_for(f"sqlite:///{path}"),
        lambda path: vault_engine(f"sqlite:///{path}"),
        lambda path: open_engine(_sqlite_file(path), 5.0),
    ],
    ids=["audit store", "vault", "institution system"],
)
def test_a_failing_statement_names_no_parameter(
    tmp_path: Path, engine_of: Callable[[Path], Engine]
) -> None:
    engine = engine_of(tmp_path / "db.sqlite")
    with pytest.raises(SQLAlchemyError) as failed, engine.connect() as conn:
        conn.execute(text("INSERT INTO no_such_table VALUES (:name)"), {"name": CANARY})

    assert "no_such_table" in str(failed.value)
    assert CANARY not in str(failed.value)
