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
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connectors.key_files import KeyFileError, KeyPurpose

NONCE_BYTES = 12
_CONTEXT = b"kawal.bawaslu.spool.v1"
_KEY_ID_LABEL = b"kawal.bawaslu.spool.key-id.v1"


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
        self, intake_id: int, post_id: str, key_id: str, sealed: bytes
    ) -> bytes | UnreadableRecord:
        """The body sealed in the record, or why it does not open."""
        if key_id != self.key_id:
            return UnreadableRecord(
                "spool_key_mismatch",
                f"sealed under spool key {key_id}, the key file holds {self.key_id}; "
                "restore the spool key file the post was sealed under",
            )
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, _identity(intake_id, post_id))
        except InvalidTag:
            return UnreadableRecord(
                "spool_record_damaged",
                "the sealed body fails authentication (altered or moved in the file); "
                "ask Bawaslu to send the post again under a new id",
            )


def _identity(intake_id: int, post_id: str) -> bytes:
    """The associated data binding a sealed body to its row."""
    return b"\x00".join((_CONTEXT, str(intake_id).encode(), post_id.encode()))
