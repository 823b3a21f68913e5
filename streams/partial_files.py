"""The temporary files of whole writes: named after their writer, removed once it is gone.

:func:`streams.private_files.write_private_file` writes a file beside its name first, as
``.<name>.<pid>.<random>.partial`` (:func:`partial_path`), and removes it whatever happens,
unless the process is killed in between (``kill -9``, a power cut). Such a leftover is read by
nobody (no reader takes ``*.partial``) and would stay in the keys folder forever.
:func:`remove_stale_partials`, run by a process that writes into a folder before it does
(``kawal up``, ``kawal keys init``, ``kawal keys new``), removes the leftovers of writers that
are gone: one whose pid runs no process on this machine, or, for a name without a pid (an
older release's) or a pid taken since by another process, one older than any write takes.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Seconds past which a temporary file is a leftover whoever wrote it: a write of a key or a
#: token (a few hundred bytes, one fsync) takes well under a second, even on a loaded disk.
STALE_SECONDS = 600.0
#: ``.<name>.<pid>.<12 hex digits>.partial``; before pids were in it, ``.<name>.<hex>.partial``.
_PARTIAL = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?(?P<token>[0-9a-f]{12})\.partial$")


def partial_path(path: Path) -> Path:
    """Where the whole write of ``path`` by this process first goes.

    >>> partial_path(Path("keys/kawal/ab.pem")).name.startswith(f".ab.pem.{os.getpid()}.")
    True
    """
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.partial")


def remove_stale_partials(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the leftovers of whole writes into ``folder`` whose writers are gone.

    Each removal is logged, with why it was stale. A file that cannot be removed (a read-only
    folder) is logged and left: the leftover hinders nothing.

    Args:
        folder: The folder (not its subfolders); a missing one holds none.
        now: The present, epoch seconds (the clock when None).

    Returns:
        The files removed.
    """
    now = time.time() if now is None else now
    removed = []
    for path in sorted(folder.glob(".*.partial")) if folder.is_dir() else []:
        why = _stale(path, now)
        if why is not None and _remove(path, why):
            removed.append(path)
    return removed


def _stale(path: Path, now: float) -> str | None:
    """Why the temporary file ``path`` is a leftover, or None while its writer may be writing."""
    matched = _PARTIAL.match(path.name)
    if matched is None:
        return None  # not the name of a whole write: another program's file
    pid = matched["pid"]
    if pid is not None and int(pid) != os.getpid() and not _running(int(pid)):
        return f"its writer, pid {pid}, is gone"
    try:
        age = now - path.lstat().st_mtime
    except FileNotFoundError:
        return None  # its writer finished meanwhile
    if age > STALE_SECONDS:
        return f"written {age:.0f} s ago, longer than any write takes"
    return None


def _running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (another user's included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path, why: str) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning(
            "cannot remove %s, left by a write that was interrupted (%s): %s",
            path,
            why,
            exc.strerror or type(exc).__name__,
        )
        return False
    # The name only: the content was a private file's, and is gone with it.
    log.warning("removed %s, left by a write that was interrupted: %s", path, why)
    return True
