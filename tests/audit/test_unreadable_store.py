"""An audit store the checkers cannot read as one: each says where and why, never a traceback.

A careless operator or an attacker can leave a store of an older or foreign schema (a table or
a column gone), a file damaged in the middle, or one another process holds locked. Every
checker (``kawal audit verify``, with ``--heads``, ``kawal case trail``, ``kawal audit
proof``) then exits 1 naming the store and the database's reason.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from streams.cli.exits import EXIT_ERROR
from streams.domain.keyring import KeyRing
from tests.audit.test_head_check import CASE, institution_keeping, kawal
from tests.audit.treetools import keyring
from tests.storetools import open_store


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture
def kept(tmp_path: Path, ring: KeyRing) -> tuple[AuditStore, Path, Path]:
    """A SQLite store with signed heads, the heads an institution kept, and the key registry."""
    store = open_store("sqlite", tmp_path, None)
    institution, keys_file = institution_keeping(store, tmp_path, ring)
    store.close()
    return store, institution.path, keys_file


def checkers(heads: Path) -> list[tuple[str, ...]]:
    return [
        ("audit", "verify"),
        ("audit", "verify", "--json"),
        ("audit", "verify", "--heads", str(heads)),
        ("case", "trail", CASE),
        ("audit", "proof", CASE),
    ]


def damage(store: AuditStore, *statements: str) -> None:
    with sqlite3.connect(str(store.engine.url.database)) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.mark.parametrize(
    ("statement", "checker", "said"),
    [
        ("DROP TABLE case_heads", ("audit", "verify"), "no such table: case_heads"),
        ("DROP TABLE case_heads", ("audit", "proof", CASE), "no such table: case_heads"),
        ("DROP TABLE tree_leaves", ("audit", "verify", "--heads"), "no such table: tree_leaves"),
        (
            "ALTER TABLE audit_entries DROP COLUMN hub_signature",
            ("case", "trail", CASE),
            "no such column",
        ),
        (
            "ALTER TABLE case_heads DROP COLUMN last_hash",
            ("audit", "verify", "--json"),
            "no such column",
        ),
    ],
)
def test_a_store_of_another_schema_is_named_with_the_databases_reason(
    kept: tuple[AuditStore, Path, Path],
    tmp_path: Path,
    statement: str,
    checker: tuple[str, ...],
    said: str,
) -> None:
    store, heads, keys_file = kept
    damage(store, statement)
    argv = [heads.as_posix() if arg == "--heads" else arg for arg in checker]
    if "--heads" in checker:
        argv.insert(argv.index(heads.as_posix()), "--heads")

    ran = kawal(tmp_path, store, keys_file, *argv)

    assert ran.returncode == EXIT_ERROR, ran.stdout
    assert "unexpected" not in ran.stderr, ran.stderr
    assert f"the audit store sqlite:///{store.engine.url.database}: " in ran.stderr
    assert said in ran.stderr


def test_a_file_damaged_in_the_middle_is_named(
    kept: tuple[AuditStore, Path, Path], tmp_path: Path
) -> None:
    store, heads, keys_file = kept
    path = Path(str(store.engine.url.database))
    data = path.read_bytes()
    # The schema's page is left whole: the tables are there, their pages are noise.
    path.write_bytes(data[:4096] + bytes(range(256)) * ((len(data) - 4096) // 256))

    for argv in checkers(heads):
        ran = kawal(tmp_path, store, keys_file, *argv)
        assert ran.returncode == EXIT_ERROR, (argv, ran.stdout)
        assert "unexpected" not in ran.stderr, (argv, ran.stderr)
        assert f"the audit store sqlite:///{path}" in ran.stderr, (argv, ran.stderr)
