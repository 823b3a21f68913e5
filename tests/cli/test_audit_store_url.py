"""A wrong audit-store URL is one line naming the store (password hidden) and the cause, exit 1.

``kawal case list`` opens an existing store; ``kawal token issue`` creates one; both are run as
an operator runs them, against real URLs: an unknown dialect, a driver not installed, a port
where no PostgreSQL listens, a folder that does not exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.audit.store import AuditStore, StoreError
from streams.cli import main
from streams.cli.exits import EXIT_ERROR
from streams.local.processes import free_port

SECRET = "s3cret-pw"
READ = ["case", "list"]
CREATE = ["token", "issue", "bkn", "--expires", "1d"]


def refusal(
    url: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """What ``kawal COMMAND`` printed on stderr with ``KAWAL_AUDIT_DB_URL=url``; it exits 1."""
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", url)

    code = main(command)

    printed = capsys.readouterr()
    assert code == EXIT_ERROR
    assert printed.out == ""
    [line] = printed.err.splitlines()
    assert line.startswith("kawal: ")
    assert "defect" not in line
    assert SECRET not in line
    return line


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("command", [READ, CREATE])
def test_an_unknown_dialect_lists_the_supported_ones(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refusal(f"bogus://kawal:{SECRET}@db/x", command, monkeypatch, capsys)

    assert "bogus://kawal:***@db/x" in line
    assert "no database dialect 'bogus'" in line
    assert "sqlite (" in line
    assert "postgresql+psycopg (" in line


def test_a_dialect_whose_driver_is_not_installed_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refusal(f"mysql://kawal:{SECRET}@db/x", READ, monkeypatch, capsys)

    assert "the driver MySQLdb of mysql is not installed" in line


@pytest.mark.parametrize("url", ["notaurl", f"postgres:/kawal:{SECRET}@db"])
def test_what_is_no_url_is_not_repeated(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refusal(url, READ, monkeypatch, capsys)

    assert "is not a database URL" in line
    assert "KAWAL_AUDIT_DB_URL" in line


@pytest.mark.parametrize("command", [READ, CREATE])
def test_a_database_that_does_not_answer_is_named_with_the_cause(
    command: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://kawal:{SECRET}@127.0.0.1:{port}/kawal"

    line = refusal(url, command, monkeypatch, capsys)

    assert f"postgresql+psycopg://kawal:***@127.0.0.1:{port}/kawal" in line
    assert "Connection refused" in line
    assert "e3q8" not in line


def test_a_sqlite_folder_that_does_not_exist_is_not_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent" / "dir"

    line = refusal(f"sqlite:///{missing / 'audit.db'}", CREATE, monkeypatch, capsys)

    assert f"no folder {missing} for the audit store" in line
    assert not (tmp_path / "nonexistent").exists()


def test_a_sqlite_folder_inside_the_home_is_made(home: Path) -> None:
    store = AuditStore(f"sqlite:///{home / 'stores' / 'audit.db'}")

    store.create_schema(home)

    assert store.count() == 0
    store.close()
    outside = AuditStore(f"sqlite:///{home.parent / 'elsewhere' / 'audit.db'}")
    with pytest.raises(StoreError, match="no folder"):
        outside.create_schema(home)
    assert not (home.parent / "elsewhere").exists()
