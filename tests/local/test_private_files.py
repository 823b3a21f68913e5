"""Private files: what the hub writes under KAWAL_HOME is its user's alone, never via a link.

Every kind of file the hub makes is checked by its mode on disk (0600, folders 0700): the
audit store and the vault when they are SQLite files, their SQLite companions, the children's
logs and whatever the children write, the home itself. Each refusal is checked too.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from streams.audit.store import AuditStore
from streams.home_locks import up_lock
from streams.local.keyring import KeyFileError, write_private_key
from streams.local.processes import ChildProcess
from streams.private_files import (
    PrivateFileError,
    open_private,
    private_database,
    private_dir,
    private_sqlite_database,
    restrict_file,
)
from streams.vault.database import create_schema, vault_engine

#: The user another program (the office's, say) runs as.
OTHER_UID = 65534


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    """Run with a umask that would let others read, as a careless shell's would."""
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def as_another_user(action: Callable[[], object]) -> str:
    """What ``action`` raised when run by another user, in a child process; '' if nothing."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery from here, only os._exit
        os.close(read)
        try:
            os.setgid(OTHER_UID)
            os.setuid(OTHER_UID)
            action()
            outcome = ""
        except Exception as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        os.write(write, outcome.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        return pipe.read().decode()


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user may enter (pytest's own are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="kawal-private-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


# -- folders ----------------------------------------------------------------------------------


def test_a_folder_and_the_missing_ones_above_it_are_made_0700(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with umask(0o022):
        made = private_dir(tmp_path / "a" / "b" / "c")
    assert made == tmp_path / "a" / "b" / "c"
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert mode(tmp_path) == 0o755  # an existing parent is left as it was


def test_an_existing_folder_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    private_dir(folder)
    assert mode(folder) == 0o700


@pytest.mark.parametrize("dangling", [False, True])
def test_a_folder_that_is_a_link_is_refused(tmp_path: Path, dangling: bool) -> None:
    target = tmp_path / "real"
    if not dangling:
        target.mkdir()
        target.chmod(0o755)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(PrivateFileError, match="link is a symbolic link"):
        private_dir(tmp_path / "link")
    assert target.exists() != dangling
    assert dangling or mode(target) == 0o755


def test_a_folder_every_user_shares_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)  # as /tmp is
    with pytest.raises(PrivateFileError, match=r"every user shares \(sticky, like /tmp\)"):
        private_dir(shared)
    assert stat.S_IMODE(os.lstat(shared).st_mode) == 0o1777


def test_a_folder_where_a_file_should_be_is_refused_as_such(tmp_path: Path) -> None:
    """Before, a folder in /tmp was refused for /tmp being every user's: no help."""
    shared = tmp_path / "tmp"
    (shared / "keys").mkdir(parents=True)
    shared.chmod(0o1777)  # as /tmp is
    with pytest.raises(PrivateFileError, match=r"keys is a folder; give the path of a file"):
        open_private(shared / "keys", os.O_RDONLY)
    assert stat.S_IMODE(os.lstat(shared).st_mode) == 0o1777


def test_a_file_where_a_folder_should_be_is_refused(tmp_path: Path) -> None:
    (tmp_path / "logs").write_text("", encoding="utf-8")
    with pytest.raises(PrivateFileError, match="is not a folder"):
        private_dir(tmp_path / "logs")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_users_folder_cannot_be_made_private(shared_tmp: Path) -> None:
    (shared_tmp / "theirs").mkdir(mode=0o755)
    outcome = as_another_user(lambda: private_dir(shared_tmp / "theirs"))
    assert outcome.startswith("PrivateFileError: cannot give")
    assert "belongs to another user" in outcome


# -- files ------------------------------------------------------------------------------------


def test_a_file_is_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    with umask(0o000):
        descriptor = open_private(tmp_path / "logs" / "worker.log", os.O_WRONLY | os.O_APPEND)
    os.close(descriptor)
    assert mode(tmp_path / "logs" / "worker.log") == 0o600
    assert mode(tmp_path / "logs") == 0o700


def test_an_existing_file_is_tightened_and_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    path.write_text("first\n", encoding="utf-8")
    path.chmod(0o644)
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_APPEND), "a") as file:
        file.write("second\n")
    assert path.read_text(encoding="utf-8") == "first\nsecond\n"
    assert mode(path) == 0o600


def test_a_link_where_a_file_should_be_is_never_written_through(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("theirs", encoding="utf-8")
    target.chmod(0o644)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "heads.jsonl").symlink_to(target)
    with pytest.raises(PrivateFileError, match=r"heads\.jsonl is a symbolic link"):
        open_private(tmp_path / "private" / "heads.jsonl", os.O_WRONLY | os.O_APPEND)
    assert (target.read_text(encoding="utf-8"), mode(target)) == ("theirs", 0o644)


def test_a_pipe_where_a_file_should_be_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "audit.db")
    with pytest.raises(PrivateFileError, match="is not a regular file"):
        private_database(tmp_path / "audit.db")
    with pytest.raises(PrivateFileError, match="is not a regular file"):
        restrict_file(tmp_path / "audit.db")


def test_an_exclusive_open_never_takes_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(b"old")
    with pytest.raises(FileExistsError):
        open_private(tmp_path / "key.pem", os.O_WRONLY | os.O_EXCL)


def test_restricting_a_link_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"")
    target.chmod(0o644)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(PrivateFileError, match="symbolic link"):
        restrict_file(tmp_path / "link")
    assert mode(target) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_users_file_cannot_be_made_private(shared_tmp: Path) -> None:
    (shared_tmp / "batch.csv").write_bytes(b"")
    (shared_tmp / "batch.csv").chmod(0o644)
    outcome = as_another_user(lambda: restrict_file(shared_tmp / "batch.csv"))
    assert outcome.startswith("PrivateFileError: cannot give")
    assert mode(shared_tmp / "batch.csv") == 0o644


def test_a_private_key_is_not_written_into_a_linked_folder(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "keys").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(KeyFileError, match="symbolic link"):
        write_private_key(tmp_path / "keys" / "bkn.pem", b"-----BEGIN PRIVATE KEY-----")
    assert list((tmp_path / "elsewhere").iterdir()) == []


# -- SQLite databases -------------------------------------------------------------------------


def test_sqlite_gives_its_companions_the_private_mode_of_the_database(tmp_path: Path) -> None:
    with umask(0o022):
        path = private_database(tmp_path / "db" / "checkpoints.db")
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
        db.commit()
    names = {p.name: mode(p) for p in (tmp_path / "db").iterdir()}
    db.close()
    assert names == {
        "checkpoints.db": 0o600,
        "checkpoints.db-wal": 0o600,
        "checkpoints.db-shm": 0o600,
    }


def test_companions_an_older_release_left_readable_are_tightened(tmp_path: Path) -> None:
    for name in ("audit.db", "audit.db-wal", "audit.db-shm", "audit.db-journal"):
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o644)
    private_database(tmp_path / "audit.db")
    assert {mode(p) for p in tmp_path.iterdir()} == {0o600}


def test_a_journal_another_connection_removes_meanwhile_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's connectors open one checkpoint file at once: SQLite ends one connection's
    # transaction, and deletes its journal, between another's look and its open.
    journal = tmp_path / "checkpoints.db-journal"
    journal.write_bytes(b"")
    real_open = os.open

    def racing_open(path: Any, flags: int, mode: int = 0o777) -> int:
        if Path(path) == journal:
            journal.unlink(missing_ok=True)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", racing_open)

    assert private_database(tmp_path / "checkpoints.db") == tmp_path / "checkpoints.db"
    assert mode(tmp_path / "checkpoints.db") == 0o600


LOCK_TRY = """
import sqlite3, sys
try:
    sqlite3.connect(sys.argv[1], timeout=0).execute("BEGIN IMMEDIATE")
except sqlite3.OperationalError:
    sys.exit(3)
"""


def test_opening_a_database_again_keeps_the_locks_of_connections_already_open(
    tmp_path: Path,
) -> None:
    # A descriptor closed on a file drops every POSIX lock of the process on it: a second
    # connector opening the checkpoint file released the first one's write lock, and another
    # process could write beside it (a demo connector then failed with DatabaseError).
    path = private_database(tmp_path / "checkpoints.db")
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("CREATE TABLE t (x)")
    first.execute("BEGIN IMMEDIATE")
    first.execute("INSERT INTO t VALUES (1)")
    try:
        private_database(path)  # as the next connector of the process opens its store
        other = subprocess.run(
            [sys.executable, "-c", LOCK_TRY, str(path)], capture_output=True, timeout=60
        )
    finally:
        first.execute("COMMIT")
        first.close()

    assert other.returncode == 3, other.stderr


def test_only_a_sqlite_file_is_made_private(tmp_path: Path) -> None:
    private_sqlite_database("postgresql", str(tmp_path / "kawal"))
    private_sqlite_database("sqlite", ":memory:")
    private_sqlite_database("sqlite", None)
    assert list(tmp_path.iterdir()) == []
    private_sqlite_database("sqlite", str(tmp_path / "vault.db"))
    assert mode(tmp_path / "vault.db") == 0o600


def test_the_audit_store_and_the_vault_in_a_home_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with umask(0o022):
        store = AuditStore(f"sqlite:///{home / 'audit.db'}")
        store.create_schema(home)  # the home is made, as on a first `kawal up`
        store.close()
        engine = vault_engine(f"sqlite:///{home / 'vault.db'}")
        create_schema(engine)
        engine.dispose()
    assert mode(home) == 0o700
    files = {p.name: mode(p) for p in home.iterdir()}
    assert {"audit.db", "vault.db"} <= set(files)
    assert set(files.values()) == {0o600}


# -- what `kawal up` and its children write ----------------------------------------------------


def test_the_home_is_private_while_the_hub_holds_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with umask(0o022), up_lock(home):
        assert mode(home) == 0o700


def test_a_childs_log_and_everything_the_child_writes_are_private(tmp_path: Path) -> None:
    program = "import os; open('made.txt', 'w').close(); os.mkdir('made')"
    child = ChildProcess("writer", [sys.executable, "-c", program], tmp_path / "logs" / "w.log")
    child.cwd = tmp_path
    with umask(0o022):
        child.start()
    deadline = time.monotonic() + 30
    while child.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.returncode == 0
    assert mode(tmp_path / "logs") == 0o700
    assert mode(tmp_path / "logs" / "w.log") == 0o600
    assert (mode(tmp_path / "made.txt"), mode(tmp_path / "made")) == (0o600, 0o700)
