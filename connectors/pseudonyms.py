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

import hashlib
import hmac
from pathlib import Path

from connectors import key_files
from connectors.key_files import KeyFileError, KeyPurpose
from schemas.field_formats import REPORTER_DIGITS, REPORTER_PREFIX

CONTEXT = b"kawal.reporter_ref.v1"


def case_pseudonym(key: bytes, case_id: str, reference: str) -> str:
    """The reporter's pseudonym in case ``case_id``, from its ``reference`` and the ``key``."""
    message = b"\x00".join((CONTEXT, case_id.encode(), reference.encode()))
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    # The form the hub takes (schemas.field_formats.REPORTER_PSEUDONYM).
    return REPORTER_PREFIX + digest[:REPORTER_DIGITS]


def pseudonym_key(secret: bytes) -> bytes:
    """A pseudonym key derived from a connector's secret, apart from the secret's other uses."""
    return hmac.new(secret, CONTEXT, hashlib.sha256).digest()


class PseudonymKeyError(KeyFileError):
    """A connector's pseudonym key file is unusable; the message says why, never the key."""


PURPOSE = KeyPurpose(
    name="pseudonym key",
    loss="earlier cases' pseudonyms then cannot be recomputed",
    error=PseudonymKeyError,
)


def kept_key(path: Path) -> bytes:
    """The pseudonym key derived from the key a connector keeps in ``path``, made on first use.

    The file is kept as :func:`connectors.key_files.kept_key` keeps keys. Back it up with the
    office's records: without it, the office can no longer recompute the pseudonyms of its
    earlier cases (the cases themselves stay readable).

    Raises:
        PseudonymKeyError: the file is a link, not a regular file, not ours, or does not hold
            64 hex digits.
    """
    return pseudonym_key(key_files.kept_key(path, PURPOSE))
