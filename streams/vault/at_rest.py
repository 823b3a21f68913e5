"""Personal data at rest: sealed with AES-256-GCM under its case's data key.

A sealed value is the 12-byte random nonce followed by the ciphertext and its 16-byte tag. The
associated data ``aad`` is authenticated, not encrypted: put in it what the value belongs to
(the case id, the event id, the field name), so a value moved to another event or field does
not open there. Random nonces are safe for 2**32 values per key, and a case's key seals a few
hundred at most.

Example:
    >>> import os
    >>> dek = os.urandom(32)
    >>> sealed = seal_at_rest(dek, b"Budi", b"case-1/event-1/reporter_name")
    >>> open_at_rest(dek, sealed, b"case-1/event-1/reporter_name")
    b'Budi'
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.errors import KawalError

__all__ = ["AtRestError", "open_at_rest", "seal_at_rest"]

DEK_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class AtRestError(KawalError):
    """A sealed value does not open: altered, truncated, or another key or context."""


def seal_at_rest(dek: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``plaintext`` sealed under ``dek``, bound to ``aad``.

    Raises:
        AtRestError: ``dek`` is not 32 bytes.
    """
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _aead(dek).encrypt(nonce, plaintext, aad)


def open_at_rest(dek: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of ``sealed``, checked against ``dek`` and ``aad``.

    Raises:
        AtRestError: ``sealed`` is too short, was altered, or was sealed under another key or
            with other associated data. The message never shows the value.
    """
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise AtRestError(
            f"a sealed value of {len(sealed)} bytes is shorter than its nonce and tag: truncated"
        )
    try:
        return _aead(dek).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise AtRestError(
            "a sealed value does not open: it was altered, or sealed under another case's "
            "data key or for another place (associated data)"
        ) from exc


def _aead(dek: bytes) -> AESGCM:
    if len(dek) != DEK_BYTES:
        # AESGCM would take a 128- or 192-bit key too; a data key is always 256 bits.
        raise AtRestError(f"a data key is {DEK_BYTES} bytes, not {len(dek)}")
    return AESGCM(dek)
