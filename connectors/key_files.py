"""Keys a connector makes for itself and keeps in a private file: 64 hex digits, mode 0600.

A connector with no secret of its own for a purpose (the inspectorate's reporter pseudonyms,
the Bawaslu webhook's spool encryption) keeps a random 256-bit key in a file it names in its
configuration. The file is made on first use, mode 0600 in a folder of mode 0700
(:mod:`streams.private_files`), and linked into place only once written and synced, so a second
process starting at the same time reads the whole key or makes none, and a full disk leaves no
file rather than an empty one. It is never read through a symbolic link, and an empty or
damaged file is refused rather than replaced: replacing it would lose whatever the old key
protects.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from connectors.errors import ConnectorConfigError
from streams.private_files import (
    PrivateFileError,
    mend_write,
    open_private,
    write_private_file,
)

#: Bytes of a kept key: 256 bits.
KEY_BYTES = 32


class KeyFileError(ConnectorConfigError):
    """A connector's key file is unusable; the message says why, never the key."""


@dataclass(frozen=True)
class KeyPurpose:
    """What a kept key is for, as its refusals name it.

    Attributes:
        name: The key's name in messages (``pseudonym key``, ``spool key``).
        loss: What a new key in its place would cost, for the damaged-file refusal.
        error: The error raised for this key (a subclass of :class:`KeyFileError`).
    """

    name: str
    loss: str
    error: type[KeyFileError] = KeyFileError


def kept_key(path: Path, purpose: KeyPurpose) -> bytes:
    """The 32-byte key kept in ``path``, made on first use.

    Raises:
        KeyFileError: (of ``purpose.error``) the file is a link, not a regular file, not
            ours, cannot be written or read, or does not hold 64 hex digits (empty or
            damaged: the message says to restore it, never to make one over it).
    """
    try:
        if not os.path.lexists(path):
            _make_key(path, purpose)
        descriptor = open_private(path, os.O_RDONLY)
        with os.fdopen(descriptor, "rb") as handle:
            text = handle.read(4 * KEY_BYTES).strip()
    except PrivateFileError as exc:
        raise purpose.error(f"{purpose.name} file: {exc}") from exc
    except OSError as exc:
        raise purpose.error(
            f"cannot read the {purpose.name} file {path} ({exc.strerror or type(exc).__name__})"
        ) from exc
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        state = "is empty" if not text else "is damaged"
        raise purpose.error(
            f"the {purpose.name} file {path} {state} (it must hold {2 * KEY_BYTES} hex "
            "digits): its writing was most likely interrupted (a full disk); restore it from "
            f"its backup, or remove it to start a new key ({purpose.loss})"
        )
    return key


def _make_key(path: Path, purpose: KeyPurpose) -> None:
    """Write a fresh key to ``path`` whole; a key another process made first wins.

    Raises:
        KeyFileError: (of ``purpose.error``) the write failed; nothing is left at ``path``.
    """
    try:
        write_private_file(path, secrets.token_bytes(KEY_BYTES).hex().encode() + b"\n")
    except FileExistsError:
        return  # another process made it first: its key wins
    except OSError as exc:
        raise purpose.error(
            f"cannot write the new {purpose.name} file {path} "
            f"({exc.strerror or type(exc).__name__}); nothing was left there: "
            f"{mend_write(exc)} and start again"
        ) from exc
