"""One owner's folder of signing keys, parsed again only where a file changed.

Each hub process looks at its key folder every 2 s (:mod:`streams.hub.hub_key_check`), and a
connector or a command whenever the registry names a key it does not hold yet. Parsing every
PEM file each time costs a read and a key load per file for nothing, nearly always: the folder
changes at a rotation or a revocation, a few times a year. :class:`KeyFolder` lists the folder
and stats each ``*.pem`` (a few microseconds each) and parses only a file whose look changed:
its modification time (ns), size, inode, mode or change time (a ``chmod 600`` that mends a
key others could read changes only the last two). A file added, replaced (a new inode), edited
in place, damaged or mended is so read again at the next look, within the same 2 s; a file
removed is dropped.

A damaged file's message says whether its key is registered (restore it, or remove it):
that too is looked at each time, so a registry changed since is said right without a parse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from streams.domain.key_files import DamagedKeyFile, KeyFiles, read_key_file
from streams.domain.keys import KeyRegistry
from streams.domain.private_key_files import is_registered
from streams.domain.signing import SigningKey

#: What a key file looks like on disk: mtime (ns), size, inode, mode, ctime (ns).
Look = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class _Parsed:
    """A file's look when it was parsed, what it read as, and whether its key was registered."""

    look: Look | None
    read: SigningKey | DamagedKeyFile
    registered: bool


class KeyFolder:
    """The signing keys in ``<folder>/<institution>/*.pem``, each parsed once per change."""

    def __init__(self, folder: Path, institution: str) -> None:
        """Read the keys of ``institution`` under the key folder ``folder``."""
        self.path = folder / institution
        self.institution = institution
        #: How many files were parsed so far (tests count them; no timing needed).
        self.parses = 0
        self._parsed: dict[Path, _Parsed] = {}

    def read(self, registry: KeyRegistry) -> KeyFiles:
        """Every key file of the folder, in name order: the keys that read, the files set aside.

        Only a file whose look changed since it was last parsed (or that is new) is parsed;
        ``registry`` is the key registry in force (:func:`read_key_file`).
        """
        looks = {path: _look(path) for path in sorted(self.path.glob("*.pem"))}
        self._parsed = {path: self._current(path, look, registry) for path, look in looks.items()}
        held = [p.read for p in self._parsed.values() if isinstance(p.read, SigningKey)]
        damaged = [p.read for p in self._parsed.values() if isinstance(p.read, DamagedKeyFile)]
        return KeyFiles(held, damaged)

    def _current(self, path: Path, look: Look | None, registry: KeyRegistry) -> _Parsed:
        """What ``path`` reads as now: its last parse while its look and registration hold."""
        registered = is_registered(registry, f"{self.institution}/{path.stem}")
        last = self._parsed.get(path)
        if (
            look is not None
            and last is not None
            and last.look == look
            # A held key reads the same whatever the registry; a damaged file's advice does not.
            and (isinstance(last.read, SigningKey) or last.registered == registered)
        ):
            return last
        self.parses += 1
        # A file that cannot be stat'ed is read all the same, and again next time: the
        # reader names why.
        return _Parsed(look, read_key_file(path, self.institution, registry), registered)


def _look(path: Path) -> Look | None:
    """The look of ``path`` now (followed through links), or None if it cannot be stat'ed."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (
        status.st_mtime_ns,
        status.st_size,
        status.st_ino,
        status.st_mode,
        status.st_ctime_ns,
    )
