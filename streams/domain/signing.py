"""Ed25519 signatures of the institutions and the hub, each bound to what it signs.

Every signature is over ``context ‖ 0x00 ‖ payload``, the context an ASCII name of the kind of
statement (docs/signing.md), so a signature made for one purpose never passes for another: an
event signature is not a tree head, an entry's hash not a rejection. Keys are read and written
with ``cryptography`` (PEM, raw public keys); signing and verifying, once per event on the
hub's hot path, go through libsodium (PyNaCl), whose Ed25519 verifies in half the time of
OpenSSL's on these machines. Both implement RFC 8032: the signatures are the same bytes.
The public halves live in the dated key registry (:mod:`streams.domain.keys`), the private
halves with their owner only, who holds them in a :class:`~streams.domain.keyring.KeyRing`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache
from pathlib import Path

import nacl.exceptions
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from schemas.errors import KawalError
from streams.domain.keys import (
    KeyRegistry,
    key_id_for,
)
from streams.domain.private_key_files import load_private_key

SIGNATURE_BYTES = 64


class Context(bytes, Enum):
    """What a signature vouches for; part of the signed bytes."""

    EVENT = b"kawal.event.v1"
    ENTRY = b"kawal.entry.v1"
    REJECTION = b"kawal.rejection.v1"
    TREE_HEAD = b"kawal.tree_head.v1"
    #: A row of the access log (:mod:`streams.audit.access_chain`).
    ACCESS = b"kawal.access.v1"


class SigningKeyError(KawalError):
    """A private signing key cannot be found or read."""


def signed_message(context: Context, payload: bytes) -> bytes:
    """The bytes a signature covers."""
    return context.value + b"\x00" + payload


@dataclass(frozen=True)
class SigningKey:
    """A private key and the id its signatures are checked under."""

    key_id: str
    private: Ed25519PrivateKey

    def sign(self, context: Context, payload: bytes) -> bytes:
        """Sign ``payload`` for ``context``."""
        return self._signer.sign(signed_message(context, payload)).signature

    @cached_property
    def _signer(self) -> nacl.signing.SigningKey:
        seed = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return nacl.signing.SigningKey(seed)

    def public_text(self) -> str:
        """The public key as the registry writes it (32 raw bytes, base64)."""
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()


def verify(public: Ed25519PublicKey, context: Context, payload: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public``'s signature of ``payload`` for ``context``."""
    if len(signature) != SIGNATURE_BYTES:
        return False
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        _verifier(raw).verify(signed_message(context, payload), signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


@lru_cache(maxsize=4096)
def _verifier(public: bytes) -> nacl.signing.VerifyKey:
    # A registry holds a few thousand keys; each is parsed once.
    return nacl.signing.VerifyKey(public)


def read_signing_key(
    path: Path, institution: str, registry: KeyRegistry | None = None
) -> SigningKey:
    """The PKCS#8 PEM private key at ``path``, for ``institution``.

    ``registry``, when given, lets an empty or damaged file's message say whether to restore
    it (registered) or remove it (:mod:`streams.domain.private_key_files`).

    Raises:
        SigningKeyError: unreadable, empty, damaged, or not an Ed25519 private key.
    """
    loaded = load_private_key(path, institution, registry, SigningKeyError)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 private key")
    raw = loaded.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SigningKey(key_id_for(institution, raw), loaded)
