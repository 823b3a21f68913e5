"""Entries of the office's share, looked at without following a link.

The office writes the share, so anything may appear in it: a symbolic link to a file of the
hub's machine (its keys, another connector's spool), a folder or a named pipe under a batch's
name, a folder of the layout replaced by a link elsewhere. The hub follows none of them. It
reads only regular files, opened with ``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a pipe cannot
hang it) inside a folder opened with ``O_NOFOLLOW``: a link swapped in after a check is
refused by the open itself. A folder of the layout that is a link, or no folder, stops the
connector from touching the share at all until someone looks.
"""

from __future__ import annotations

import errno
import os
import stat
from datetime import datetime
from pathlib import Path

from connectors.errors import ConnectorError

#: How an entry that is not a regular file is named in refusals, by ``stat.S_IFMT`` type.
KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


class UnsafeShareError(ConnectorError):
    """A folder of the share is a symbolic link or not a folder: the hub touches nothing there."""


def kind_of(mode: int) -> str:
    """What an entry of ``st_mode`` ``mode`` is, in words (``a symbolic link``)."""
    return KINDS.get(stat.S_IFMT(mode), "a regular file")


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be used as a folder of the share; None if it is one or is absent."""
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(mode):
        return None
    return (
        f"{folder} is {kind_of(mode)}, not a folder; the hub follows no links in the drop "
        "directory and reads nothing there until it is a real folder again"
    )


def read_regular(folder: Path, name: str) -> bytes | None:
    """The bytes of regular file ``name`` in ``folder``; None if it is anything else now.

    Raises:
        OSError: the folder or file cannot be read (unmounted share, permissions).
    """
    folder_descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            descriptor = os.open(name, flags, dir_fd=folder_descriptor)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return None  # became a link since it was listed
            raise
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            return file.read()
    finally:
        os.close(folder_descriptor)


def delete_older(folder: Path, before: datetime) -> int:
    """Delete every entry of ``folder`` (folders aside) last changed before ``before``.

    An entry's age is its status-change time (``st_ctime``), which the move into ``folder``
    and the hub's ``chmod`` set, and which no one can set back; a later change only makes the
    entry kept longer. Links are deleted themselves, never what they point to.

    Returns:
        How many entries were deleted.
    """
    deleted = 0
    limit = before.timestamp()
    with os.scandir(folder) as entries:
        for entry in entries:
            status = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(status.st_mode) or status.st_ctime >= limit:
                continue
            os.unlink(folder / entry.name)
            deleted += 1
    return deleted
