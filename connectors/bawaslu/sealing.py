"""Each spooled post sealed at rest: AES-256-GCM under the spool key the connector keeps.

A post's body holds personal data (the reported civil servant, the reporter); the spool keeps
it only sealed. Each record gets a fresh random 96-bit nonce, and its identity in the spool
(intake id and Bawaslu's post id) as associated data, so a sealed body moved to another row,
or altered in place, no longer opens. Each record also names the key that sealed it by a key
id (an HMAC of a fixed label under the key, which says nothing of the key), so a spool read
under another key is told apart from a damaged record.

The key is kept in ``spool_key_file`` (:mod:`connectors.key_files`): lose it and the posts not
yet in the hub can no longer be read.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connectors.key_files import KeyFileError, KeyPurpose

NONCE_BYTES = 12
#: Bytes of GCM's authentication tag, at the end of each ciphertext.
TAG_BYTES = 16
_CONTEXT = b"kawal.bawaslu.spool.v1"
_KEY_ID_LABEL = b"kawal.bawaslu.spool.key-id.v1"
_KEY_ID = re.compile(r"[0-9a-f]{16}")


class SpoolKeyError(KeyFileError):
    """The spool key file is unusable; the message says why, never the key."""


PURPOSE = KeyPurpose(
    name="spool key",
    loss="posts spooled under the old key and not yet in the hub can then no longer be read",
    error=SpoolKeyError,
)


@dataclass(frozen=True)
class UnreadableRecord:
    """Why a sealed record does not open: a code for machines, words for the operator."""

    code: str
    detail: str


#: A record whose sealed body fails authentication, or is no sealed body at all.
DAMAGED = UnreadableRecord(
    "spool_record_damaged",
    "the sealed body fails authentication (altered, shortened or moved in the file); "
    "restore the spool from its backup, or ask Bawaslu to send the post again under a new id",
)


class SpoolSealer:
    """Seals and opens spool records under one key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.key_id = hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"SpoolSealer(key id {self.key_id})"  # never the key

    def seal(self, intake_id: int, post_id: str, body: bytes) -> bytes:
        """``body`` sealed for the record ``intake_id``/``post_id``: nonce ‖ ciphertext."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, body, _identity(intake_id, post_id))

    def open(
        self, intake_id: int, post_id: str, key_id: str, sealed: object
    ) -> bytes | UnreadableRecord:
        """The body sealed in the record, or why it does not open.

        Args:
            intake_id: The record's intake id.
            post_id: Bawaslu's id of the post.
            key_id: The id of the key the record names.
            sealed: What the record holds; anything but a nonce and a tagged ciphertext
                (shortened, another type) is damaged, not an error of the reader.
        """
        if key_id != self.key_id:
            # The file's text, quoted in logs and dead letters only if it is a key id.
            named = key_id if _KEY_ID.fullmatch(key_id) else "(no key id)"
            return UnreadableRecord(
                "spool_key_mismatch",
                f"sealed under spool key {named}, the key file holds {self.key_id}; "
                "restore the spool key file the post was sealed under",
            )
        if not isinstance(sealed, bytes) or len(sealed) < NONCE_BYTES + TAG_BYTES:
            return DAMAGED
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, _identity(intake_id, post_id))
        except InvalidTag:
            return DAMAGED


def _identity(intake_id: int, post_id: str) -> bytes:
    """The associated data binding a sealed body to its row."""
    return b"\x00".join((_CONTEXT, str(intake_id).encode(), post_id.encode()))
