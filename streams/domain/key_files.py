"""A folder of signing keys read file by file: a damaged file is set aside, never a stop.

An owner's private signing keys are ``<key folder>/<institution>/*.pem``. One file there that
cannot serve (a copy cut short, a stray file, a key others may read) used to stop every reader
of the folder, even beside a valid key: the hub's worker and sink at their start, a connector,
``kawal erase``. Now each file is read on its own (:func:`read_key_file`, and
:class:`streams.domain.key_folder.KeyFolder` for a whole folder): the keys that read are used,
and the files set aside are reported apart, with why (a log line through :class:`SetAside`,
and a metric where the process has one: ``kawal_hub_key_file_damaged`` in the worker and sink,
``kawal_connector_key_file_damaged`` in a connector; docs/operations.md,
KawalHubKeyFileDamaged). With no usable key at all, the reader still stops, and its message
names the damaged files.

What counts as damaged (:class:`KeyFileDamage`): a file that cannot be read, one empty or cut
short, one that holds no Ed25519 private key, and, in the hub's own folder, one that others
than its owner may read or write (a private key of the hub is trusted only while it was its
owner's alone, as ssh and the KEK file do; an institution's folder is its own business, and a
connector that signed with a key of mode 0644 yesterday still does). Messages name the file,
never its content: it is a secret.
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

#: Permission bits of anyone but the owner: a hub key file with any of them is set aside.
SHARED_BITS = 0o077
#: Where a PEM block begins and ends: a begun block with no end was cut short.
_PEM_BEGIN, _PEM_END = b"-----BEGIN", b"-----END"
#: The runbook of a damaged key file, for every reader's message.
RUNBOOK = "docs/operations.md#kawalhubkeyfiledamaged"


class KeyFileDamage(StrEnum):
    """Why a file in a key folder signs nothing (the metrics' ``damage`` label)."""

    #: It cannot be opened: not a regular file, or the process's user may not read it.
    UNREADABLE = "unreadable"
    #: Others than its owner may read or write it: it may no longer be the hub's secret alone.
    WRONG_MODE = "wrong_mode"
    #: Empty, or a PEM block with no end: its writing was interrupted.
    TRUNCATED = "truncated"
    #: Whole, but no Ed25519 private key: other text, a public key, another kind of key.
    NOT_A_KEY = "not_a_key"


@dataclass(frozen=True)
class DamagedKeyFile:
    """A file of a key folder set aside, why, and what to do (never its content)."""

    path: Path
    damage: KeyFileDamage
    problem: str


@dataclass(frozen=True)
class KeyFiles:
    """What a key folder holds: the keys that read, and the files set aside."""

    held: list[SigningKey]
    damaged: list[DamagedKeyFile]


class SetAside:
    """The files of one key folder set aside as last read: logged once, and reported."""

    def __init__(
        self,
        report: Callable[[Sequence[DamagedKeyFile]], None] = lambda files: None,
        institution: str = HUB_INSTITUTION,
    ) -> None:
        """Tell ``report`` the damaged files of ``institution``'s folder after every read."""
        self._report = report
        self.institution = institution
        #: The damaged files as last read, by path.
        self.files: dict[Path, DamagedKeyFile] = {}

    def update(self, damaged: Sequence[DamagedKeyFile]) -> None:
        """Take the damaged files of a new read; log each new one, and each one gone."""
        now = {file.path: file for file in damaged}
        for path, file in now.items():
            if self.files.get(path) != file:
                # The problem names the file and the fix, never the content: it is a secret.
                log.error(
                    "a file in the key folder of %s is set aside (%s), the process signs with "
                    "another key of %s if it holds one: %s (%s)",
                    self.institution,
                    file.damage.value,
                    self.institution,
                    file.problem,
                    RUNBOOK,
                )
        for path in self.files.keys() - now.keys():
            log.warning("the key file %s is no longer set aside (mended or removed)", path)
        self.files = now
        self._report(damaged)

    def named(self) -> str:
        """The files set aside, by name, for a message that no key reads; '' when none."""
        return ", ".join(sorted(path.name for path in self.files))


def read_key_file(
    path: Path, institution: str, registry: KeyRegistry
) -> SigningKey | DamagedKeyFile:
    """The signing key of ``institution`` in ``path``, or why the file is set aside.

    ``registry`` lets a damaged file's problem say whether to restore it (registered) or
    remove it (:mod:`streams.domain.private_key_files`). The mode is checked in the hub's
    folder only (the module's docstring says why).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        # Gone between the listing and now, or a link to nothing.
        why = f"cannot be opened ({exc.strerror or type(exc).__name__})"
        return _unreadable(path, why)
    if not stat.S_ISREG(mode):
        return _unreadable(path, "is not a regular file")
    try:
        key = read_signing_key(path, institution, registry)
    except SigningKeyError as exc:
        return DamagedKeyFile(path, _damage_of(path), str(exc))
    # Said after the content: an empty file is empty first, whatever its mode.
    if institution == HUB_INSTITUTION and stat.S_IMODE(mode) & SHARED_BITS:
        return DamagedKeyFile(path, KeyFileDamage.WRONG_MODE, _shared(path, stat.S_IMODE(mode)))
    return key


def _unreadable(path: Path, why: str) -> DamagedKeyFile:
    return DamagedKeyFile(
        path,
        KeyFileDamage.UNREADABLE,
        f"the private key file {path} {why}: a key file is a regular file of the user the "
        "process runs as, mode 0600; move it out of the key folder, or mend it",
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
