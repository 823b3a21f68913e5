"""The hub's key folder read file by file: a damaged file is set aside, never a stop.

The hub's private signing keys are ``<key folder>/kawal/*.pem``. One file there that cannot
serve (a copy cut short, a stray file, a key others may read) used to stop every worker and
sink at their start, even beside a valid key. Now each file is read on its own:
:func:`read_hub_keys` returns the keys that read and, apart, the files set aside and why, so
the hub signs with a valid key while the damaged file is reported (log, metric
``kawal_hub_key_file_damaged``, ``kawal status``; docs/operations.md, KawalHubKeyFileDamaged).
With no usable key at all, the hub still stops, and its message names the damaged files.

What counts as damaged (:class:`KeyFileDamage`): a file that cannot be read, one that others
than its owner may read or write (a private key is trusted only while it was its owner's
alone, as ssh and the KEK file do), one empty or cut short, and one that holds no Ed25519
private key. Messages name the file, never its content: it is a secret.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyRegistry
from streams.domain.signing import SigningKey, SigningKeyError, read_signing_key

log = logging.getLogger(__name__)

#: Permission bits of anyone but the owner: a key file with any of them is set aside.
SHARED_BITS = 0o077
#: Where a PEM block begins and ends: a begun block with no end was cut short.
_PEM_BEGIN, _PEM_END = b"-----BEGIN", b"-----END"


class KeyFileDamage(StrEnum):
    """Why a file in the hub's key folder signs nothing (the metric's ``damage`` label)."""

    #: It cannot be opened: not a regular file, or the hub's user may not read it.
    UNREADABLE = "unreadable"
    #: Others than its owner may read or write it: it may no longer be the hub's secret alone.
    WRONG_MODE = "wrong_mode"
    #: Empty, or a PEM block with no end: its writing was interrupted.
    TRUNCATED = "truncated"
    #: Whole, but no Ed25519 private key: other text, a public key, another kind of key.
    NOT_A_KEY = "not_a_key"


@dataclass(frozen=True)
class DamagedKeyFile:
    """A file of the hub's key folder set aside, why, and what to do (never its content)."""

    path: Path
    damage: KeyFileDamage
    problem: str


@dataclass(frozen=True)
class HubKeyFiles:
    """What the hub's key folder holds: the keys that read, and the files set aside."""

    held: list[SigningKey]
    damaged: list[DamagedKeyFile]


class SetAside:
    """The files of the hub's key folder set aside as last read: logged once, and reported."""

    def __init__(self, report: Callable[[Sequence[DamagedKeyFile]], None]) -> None:
        """Tell ``report`` the damaged files after every read of the folder (for the metric)."""
        self._report = report
        #: The damaged files as last read, by path.
        self.files: dict[Path, DamagedKeyFile] = {}

    def update(self, damaged: Sequence[DamagedKeyFile]) -> None:
        """Take the damaged files of a new read; log each new one, and each one gone."""
        now = {file.path: file for file in damaged}
        for path, file in now.items():
            if self.files.get(path) != file:
                # The problem names the file and the fix, never the content: it is a secret.
                log.error(
                    "a file in the hub's key folder is set aside (%s), the hub signs with "
                    "another key if it holds one: %s",
                    file.damage.value,
                    file.problem,
                )
        for path in self.files.keys() - now.keys():
            log.warning("the key file %s is no longer set aside (mended or removed)", path)
        self.files = now
        self._report(damaged)


def read_hub_keys(folder: Path, registry: KeyRegistry) -> HubKeyFiles:
    """Every ``*.pem`` in ``folder/kawal``, each read on its own, in name order.

    ``registry`` lets a damaged file's problem say whether to restore it (registered) or
    remove it (:mod:`streams.domain.private_key_files`).
    """
    held: list[SigningKey] = []
    damaged: list[DamagedKeyFile] = []
    for path in sorted((folder / HUB_INSTITUTION).glob("*.pem")):
        read = _read(path, registry)
        if isinstance(read, DamagedKeyFile):
            damaged.append(read)
        else:
            held.append(read)
    return HubKeyFiles(held, damaged)


def _read(path: Path, registry: KeyRegistry) -> SigningKey | DamagedKeyFile:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        # Gone between the listing and now, or a link to nothing.
        why = f"cannot be opened ({exc.strerror or type(exc).__name__})"
        return _unreadable(path, why)
    if not stat.S_ISREG(mode):
        return _unreadable(path, "is not a regular file")
    try:
        key = read_signing_key(path, HUB_INSTITUTION, registry)
    except SigningKeyError as exc:
        return DamagedKeyFile(path, _damage_of(path), str(exc))
    # Said after the content: an empty file is empty first, whatever its mode.
    if stat.S_IMODE(mode) & SHARED_BITS:
        return DamagedKeyFile(path, KeyFileDamage.WRONG_MODE, _shared(path, stat.S_IMODE(mode)))
    return key


def _unreadable(path: Path, why: str) -> DamagedKeyFile:
    return DamagedKeyFile(
        path,
        KeyFileDamage.UNREADABLE,
        f"the private key file {path} {why}: a key file is a regular file of the user the hub "
        "runs as, mode 0600; move it out of the key folder, or mend it",
    )


def _shared(path: Path, mode: int) -> str:
    key_id = f"{HUB_INSTITUTION}/{path.stem}"
    return (
        f"the private key file {path} can be read or written by others than its owner (mode "
        f"{mode:o}), so the hub does not sign with it: if nobody else could have read it, run "
        f"`chmod 600 {path}`; if someone could, revoke it (`kawal keys revoke {key_id} "
        "--reason ...`) and remove the file"
    )


def _damage_of(path: Path) -> KeyFileDamage:
    """Which damage a file that did not read as an Ed25519 key has (read again to tell)."""
    try:
        content = path.read_bytes().strip()
    except OSError:
        return KeyFileDamage.UNREADABLE
    if not content or (content.startswith(_PEM_BEGIN) and _PEM_END not in content):
        return KeyFileDamage.TRUNCATED
    return KeyFileDamage.NOT_A_KEY
