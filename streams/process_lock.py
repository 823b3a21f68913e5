"""An exclusive lock a process holds on a file for as long as it runs.

Two copies of one hub on a home, or of one connector, would each do the work and step on what
the other keeps (the heads a connector kept, its checkpoints), so the second refuses to start.
``flock`` locks belong to an open file: the kernel drops the lock when the process dies, however
it dies, and a second open in the same process is refused too. :func:`lock_holder` tells who
holds one without taking it for longer than a moment (``kawal status``, a worker beside
``kawal up``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from schemas.errors import KawalError
from streams.private_files import open_private


class AlreadyRunningError(KawalError):
    """Another process (or another copy in this one) holds the lock."""


@contextmanager
def held_lock(path: Path, refusal: Callable[[str], str]) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, whose text is the holder's pid, while inside.

    Args:
        path: the lock file (made 0600 if missing, its folder made private).
        refusal: the message when another holds it, given that holder's pid.

    Raises:
        AlreadyRunningError: another holds the lock.
    """
    # Private like everything beside it, and never opened through a link.
    handle: IO[str] = os.fdopen(open_private(path, os.O_RDWR), "r+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunningError(refusal(owner)) from exc
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        handle.close()


def lock_holder(path: Path) -> str | None:
    """The pid written in ``path`` while a process holds its lock, or None when none does.

    A shared lock, released at once, is the test: the file is opened read-only, never made, so
    asking about a home where nothing ever ran leaves nothing behind.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(descriptor, "r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "unknown"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
