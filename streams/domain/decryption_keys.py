"""Private encryption keys: what opens data sealed (HPKE, RFC 9180) to an institution.

An institution's private X25519 keys live in ``<key folder>/<institution>/encryption/`` as
``<fingerprint>.pem`` (PKCS#8, mode 0600; :func:`streams.domain.keys.private_key_path`), apart
from its signing keys. A sealed record names the key it was sealed to; that key is found by id
whatever its validity today, because a reader opens old records with the key of their time. A
key opens nothing unless the key registry lists it as an encryption key of that institution
with the same public half. :class:`streams.domain.keyring.KeyRing` hands these keys out.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from schemas.errors import KawalError
from streams.domain.keys import (
    EncryptionKeyEntry,
    KeyRegistry,
    KeyUse,
    key_id_for,
    private_key_path,
    raw_public,
)
from streams.domain.private_key_files import BACKUP_DOC, load_private_key


class DecryptionKeyError(KawalError):
    """A private encryption key is not registered for its institution, not held, or unreadable."""


def generated_encryption_key(
    institution: str, valid_from: datetime
) -> tuple[X25519PrivateKey, EncryptionKeyEntry]:
    """A fresh private encryption key of ``institution`` and its registry entry (in memory)."""
    private = X25519PrivateKey.generate()
    public = private.public_key()
    entry = EncryptionKeyEntry(
        key_id_for(institution, raw_public(public)), institution, public, valid_from
    )
    return private, entry


class DecryptionKeys:
    """The private encryption keys an owner holds under a key folder, checked by the registry."""

    def __init__(
        self,
        folder: Path,
        registry: KeyRegistry,
        held: dict[str, X25519PrivateKey] | None = None,
    ) -> None:
        """Keys under ``folder/<institution>/encryption/`` (or ``held``, by key id)."""
        self.folder = folder
        self.registry = registry
        self._held: dict[str, X25519PrivateKey] = dict(held or {})

    def key(self, institution: str, key_id: str) -> X25519PrivateKey:
        """The private key ``key_id`` of ``institution``, valid or not today.

        Raises:
            DecryptionKeyError: the registry does not list ``key_id`` as an encryption key of
                ``institution``, or this folder holds no readable private key matching it.
        """
        # The registry is asked first: a key id read from a sealed record is the sender's word,
        # and only a registered one may name a file to read.
        entry = self._registered(institution, key_id)
        held = self._held.get(key_id)
        if held is None:
            held = self._held[key_id] = self._read(entry)
        return held

    def _registered(self, institution: str, key_id: str) -> EncryptionKeyEntry:
        entry = self.registry.encryption_entry(key_id)
        if entry is None:
            signing = any(signing.id == key_id for signing in self.registry.entries())
            kind = "a signing key, not an encryption key" if signing else "not registered"
            raise DecryptionKeyError(
                f"key {key_id} is {kind} in the key registry; data for {institution} is opened "
                f"with its encryption key: make one with `kawal keys new {institution} --use "
                f"encryption` and {self.registry.where_to_register()}"
            )
        if entry.institution != institution:
            raise DecryptionKeyError(
                f"key {key_id} is an encryption key of {entry.institution}, not of "
                f"{institution}; only its owner opens what is sealed to it"
            )
        return entry

    def _read(self, entry: EncryptionKeyEntry) -> X25519PrivateKey:
        path = private_key_path(self.folder, entry.id, KeyUse.ENCRYPTION)
        if not path.is_file():
            raise DecryptionKeyError(
                f"the private key of {entry.id} is not in {path.parent}: restore {path.name} "
                f"there from the backup of the keys folder ({BACKUP_DOC}), or copy it (mode "
                f"0600) from the machine where `kawal keys new {entry.institution}` made it"
            )
        private = _load(path, entry.institution, self.registry)
        if raw_public(private.public_key()) != raw_public(entry.public_key):
            raise DecryptionKeyError(
                f"{path} is not the private half of the registered key {entry.id}; a key file is "
                "named after its own key's fingerprint"
            )
        return private


def _load(path: Path, institution: str, registry: KeyRegistry) -> X25519PrivateKey:
    loaded = load_private_key(path, institution, registry, DecryptionKeyError)
    if not isinstance(loaded, X25519PrivateKey):
        raise DecryptionKeyError(f"{path} is not an X25519 private key")
    return loaded
