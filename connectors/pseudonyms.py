"""Per-case pseudonyms of reporters: the same person, a different reference in every case.

A reporter's reference in the supervisor's own system (a SIGAP account, a form number) would
let anyone holding two cases' events see that one person reported both. The connector sends
instead ``reporter:`` + the first 24 hex digits of HMAC-SHA256(key, ``kawal.reporter_ref.v1``
‖ 0 ‖ case id ‖ 0 ‖ reference): stable within a case (a redelivered event keeps it), unlinkable
across cases without the key, which stays with the sending institution. The supervisor, who
knows its reporters and holds the key, recomputes a case's pseudonym to find the person.

The Bawaslu webhook derives its key from the secret it shares with Bawaslu; a connector with
no secret of its own (the inspectorate's file drop) keeps a key in a file (:func:`kept_key`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from connectors.errors import ConnectorConfigError
from streams.private_files import PrivateFileError, open_private

PREFIX = "reporter:"
CONTEXT = b"kawal.reporter_ref.v1"
#: Hex digits kept: 96 bits, no collision among a nation's reports.
DIGITS = 24


def case_pseudonym(key: bytes, case_id: str, reference: str) -> str:
    """The reporter's pseudonym in case ``case_id``, from its ``reference`` and the ``key``."""
    message = b"\x00".join((CONTEXT, case_id.encode(), reference.encode()))
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:DIGITS]


def pseudonym_key(secret: bytes) -> bytes:
    """A pseudonym key derived from a connector's secret, apart from the secret's other uses."""
    return hmac.new(secret, CONTEXT, hashlib.sha256).digest()


#: Bytes of a key a connector makes for itself (:func:`kept_key`): 256 bits.
KEY_BYTES = 32


class PseudonymKeyError(ConnectorConfigError):
    """A connector's pseudonym key file is unusable; the message says why, never the key."""


def kept_key(path: Path) -> bytes:
    """The pseudonym key a connector keeps in ``path`` (64 hex digits), made on first use.

    A missing file is created with a fresh random key, mode 0600 in a folder of mode 0700
    (:mod:`streams.private_files`), and linked into place only once written, so a second
    process starting at the same time reads the whole key or makes none. Back the file up
    with the office's records: without it, the office can no longer recompute the
    pseudonyms of its earlier cases (the cases themselves stay readable).

    Raises:
        PseudonymKeyError: the file is a link, not a regular file, not ours, or does not hold
            64 hex digits.
    """
    try:
        if not os.path.lexists(path):
            _make_key(path)
        descriptor = open_private(path, os.O_RDONLY)
        with os.fdopen(descriptor, "rb") as handle:
            text = handle.read(4 * KEY_BYTES).strip()
    except PrivateFileError as exc:
        raise PseudonymKeyError(f"pseudonym key file: {exc}") from exc
    except OSError as exc:
        raise PseudonymKeyError(
            f"cannot read the pseudonym key file {path} ({type(exc).__name__})"
        ) from exc
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise PseudonymKeyError(
            f"{path} does not hold a pseudonym key ({2 * KEY_BYTES} hex digits); restore it "
            "from its backup, or remove it to start a new key (earlier cases' pseudonyms "
            "then cannot be recomputed)"
        )
    return pseudonym_key(key)


def _make_key(path: Path) -> None:
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    descriptor = open_private(partial, os.O_WRONLY | os.O_EXCL)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES).hex().encode() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: its key wins
            os.link(partial, path)
    finally:
        partial.unlink()
