"""Files only the hub's own user may open: mode 0600, in folders of mode 0700.

Whatever the hub and its connectors keep on disk may hold personal data or secrets: the
audit and vault databases, checkpoints, a connector's spool and processed batches, kept tree
heads, logs, keys. Every such file is made here, never with the process's umask: a file is
created with mode 0600 (not made and then tightened, so no other user can open it in between)
in a folder of mode 0700, and nothing is ever written through a symbolic link. A file or
folder that exists already is tightened to those modes, so a home made by an older release
becomes private on its next start.

SQLite writes beside a database its journal (``-journal``) or write-ahead log and shared
memory (``-wal``, ``-shm``), with the mode of the database file: :func:`private_database`
creates the database file 0600 before SQLite first opens it, and tightens companions an older
release left behind.

A file written whole (a key, a token, the KEK file) is written by :func:`write_private_file`:
to a temporary file beside it, flushed and synced, then renamed (or linked) into place and
the folder synced, so a full disk or a crash leaves the old file or none, never half of one.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from schemas.errors import KawalError
from streams.partial_files import partial_path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
#: Files SQLite keeps beside a database, by suffix of the database's name.
SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


class PrivateFileError(KawalError):
    """A file or folder cannot be made private: a symbolic link, another kind, or not ours."""


def private_dir(folder: Path) -> Path:
    """Make ``folder`` a real folder of mode 0700 and return it.

    Missing folders on the way are made 0700 too (``mkdir(parents=True)`` would give them the
    umask's mode); existing parents are left as they are.

    Raises:
        PrivateFileError: ``folder`` is a symbolic link, not a folder, or a folder every user
            shares (sticky, like ``/tmp``), or its mode cannot be changed (another user's).
    """
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        missing = [ancestor for ancestor in (folder, *folder.parents) if not ancestor.exists()]
        for ancestor in reversed(missing):
            ancestor.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        mode = os.lstat(folder).st_mode
    if stat.S_ISLNK(mode):
        raise PrivateFileError(
            f"{folder} is a symbolic link; give the real folder's path, the hub keeps private "
            "files only in real folders"
        )
    if not stat.S_ISDIR(mode):
        raise PrivateFileError(f"{folder} is not a folder; move it away or give another path")
    if mode & stat.S_ISVTX:
        # A sticky folder (/tmp) is every user's: made 0700, it would stop the machine's other
        # programs from writing there.
        raise PrivateFileError(
            f"{folder} is a folder every user shares (sticky, like /tmp); give a folder of the "
            f"hub's own, such as {folder / 'kawal'}"
        )
    if stat.S_IMODE(mode) != PRIVATE_DIR_MODE:
        try:
            folder.chmod(PRIVATE_DIR_MODE)
        except PermissionError as exc:
            raise PrivateFileError(_not_ours(folder, PRIVATE_DIR_MODE)) from exc
    return folder


def open_private(path: Path, flags: int) -> int:
    """A descriptor on ``path`` opened with ``flags``, the file created 0600 if missing.

    The folder is made private first (:func:`private_dir`). An existing file is tightened to
    0600 on the open descriptor, so what is tightened is what is opened.

    Args:
        path: The file.
        flags: ``os.O_WRONLY | os.O_APPEND``, ``os.O_WRONLY | os.O_EXCL``...; ``O_CREAT``,
            ``O_NOFOLLOW``, ``O_NONBLOCK`` and ``O_CLOEXEC`` are always added.

    Raises:
        FileExistsError: ``flags`` hold ``O_EXCL`` and the file exists.
        PrivateFileError: the file or its folder is a symbolic link or not of its kind, or
            belongs to another user.
    """
    if path.is_dir() and not path.is_symlink():
        # Said first: its folder's own problem (/tmp is every user's) would hide this one.
        raise PrivateFileError(
            f"{path} is a folder; give the path of a file (a new one is made there)"
        )
    private_dir(path.parent)
    # O_NONBLOCK: a named pipe put where the file should be must not hang the open; it changes
    # nothing for a regular file.
    always = os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags | always, PRIVATE_FILE_MODE)
    except OSError as exc:
        # ELOOP: O_NOFOLLOW refused a symbolic link in the open itself, with no race to win.
        if exc.errno == errno.ELOOP:
            raise PrivateFileError(_symlink(path)) from exc
        raise
    try:
        _tighten(path, descriptor)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


#: Errors of a write that more room would let through.
_OUT_OF_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def mend_write(exc: OSError) -> str:
    """What lets a failed write through: room on the disk, or a path the process may write."""
    if exc.errno in _OUT_OF_ROOM:
        return "free space on that disk"
    return "check that the folder is a folder this process may write"


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` whole, mode 0600 from its creation, in a 0700 folder.

    The bytes go to a temporary file in the same folder (``.<name>.<pid>.<random>.partial``:
    :mod:`streams.partial_files`, which removes those a killed process left), are
    flushed and synced, and only then is the file renamed over ``path`` (``overwrite``) or
    linked to it (never over another file); the folder is synced last, so the new name
    survives a crash of the machine. A failure on the way (a full disk, a file size limit, a
    read-only folder) removes the temporary file and leaves ``path`` as it was: the old file,
    or none, never a partial one that a reader would take for damaged.

    Args:
        path: The file.
        data: Its whole content.
        overwrite: Replace a file already at ``path``; otherwise an existing one is kept.

    Raises:
        FileExistsError: ``overwrite`` is False and ``path`` exists (it is left untouched).
        PrivateFileError: ``path`` is a folder, or its folder is a symbolic link, not a
            folder, or not ours.
        OSError: the write, the sync or the rename failed (nothing is left at ``path``
            that was not there before).
    """
    if path.is_dir() and not path.is_symlink():
        raise PrivateFileError(
            f"{path} is a folder; give the path of a file (a new one is made there)"
        )
    # Named after this process, so that a leftover of a kill is known for one once it is gone.
    partial = partial_path(path)
    descriptor = open_private(partial, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            # A link at ``path`` is replaced, not written through.
            os.replace(partial, path)
        else:
            os.link(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make the names just added to or removed from ``folder`` survive a crash (fsync)."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def restrict_file(path: Path) -> None:
    """Tighten the existing regular file ``path`` to mode 0600, never through a link.

    Raises:
        FileNotFoundError: there is no ``path``.
        PrivateFileError: ``path`` is a symbolic link or not a regular file, or belongs to
            another user.
    """
    try:
        # O_NONBLOCK: a named pipe put where a file was expected must not hang the open.
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PrivateFileError(_symlink(path)) from exc
        raise
    try:
        _tighten(path, descriptor)
    finally:
        os.close(descriptor)


def private_database(path: Path) -> Path:
    """Make the SQLite database file ``path`` private before SQLite opens it; return it.

    Creates an empty file of mode 0600 if there is none (SQLite takes an empty file for a new
    database, and gives its journal and logs the database file's mode), and tightens the file
    and the companions an older release may have left with the umask's mode.

    Raises:
        PrivateFileError: as :func:`open_private`.
    """
    # Closing any descriptor of a file drops every POSIX lock this process holds on it, those
    # of SQLite connections already open on it included (several connectors of one process
    # share the checkpoint file): a file already private is not opened at all.
    try:
        ready = _already_private(path)
    except FileNotFoundError:
        ready = False
    if ready:
        private_dir(path.parent)
    else:
        os.close(open_private(path, os.O_RDONLY))
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        try:
            if not _already_private(companion):
                restrict_file(companion)
        except FileNotFoundError:
            # None, or another connection's SQLite removed its journal meanwhile: nothing to
            # tighten.
            continue
    return path


def _already_private(path: Path) -> bool:
    """Whether ``path`` is a regular file of ours of mode 0600 (looked at, never opened).

    Raises:
        FileNotFoundError: there is no ``path``.
    """
    status = os.lstat(path)
    return (
        stat.S_ISREG(status.st_mode)
        and stat.S_IMODE(status.st_mode) == PRIVATE_FILE_MODE
        and status.st_uid == os.geteuid()
    )


def private_sqlite_database(backend: str, database: str | None) -> None:
    """Make the database file of a SQLAlchemy URL private if it is a SQLite file.

    Args:
        backend: The URL's backend name (``sqlite``, ``postgresql``...).
        database: The URL's database: a path for SQLite; None or ``:memory:`` has no file.
    """
    if backend == "sqlite" and database and database != ":memory:":
        private_database(Path(database))


def _tighten(path: Path, descriptor: int) -> None:
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        raise PrivateFileError(f"{path} is not a regular file; move it away or give another path")
    if stat.S_IMODE(status.st_mode) != PRIVATE_FILE_MODE:
        try:
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
        except PermissionError as exc:
            raise PrivateFileError(_not_ours(path, PRIVATE_FILE_MODE)) from exc


def _symlink(path: Path) -> str:
    return f"{path} is a symbolic link; the hub never writes through one: remove it"


def _not_ours(path: Path, mode: int) -> str:
    return (
        f"cannot give {path} mode {mode:o}: it belongs to another user; "
        "give it to the user the hub runs as (chown)"
    )
