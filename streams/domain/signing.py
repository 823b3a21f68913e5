"""Ed25519 signatures of the institutions and the hub, each bound to what it signs.

Every signature is over ``context ‖ 0x00 ‖ payload``, the context an ASCII name of the kind of
statement (docs/signing.md), so a signature made for one purpose never passes for another: an
event signature is not a tree head, an entry's hash not a rejection. Keys are read and written
with ``cryptography`` (PEM, raw public keys); signing and verifying, once per event on the
hub's hot path, go through libsodium (PyNaCl), whose Ed25519 verifies in half the time of
OpenSSL's on these machines. Both implement RFC 8032: the signatures are the same bytes.
The public halves live in the dated key registry (:mod:`streams.domain.keys`), the private
halves with their owner only; the :class:`KeyRing` of an owner also hands out its private
encryption keys (:mod:`streams.domain.decryption_keys`).
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
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
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from schemas.errors import KawalError
from streams.domain.decryption_keys import DecryptionKeys, generated_encryption_key
from streams.domain.keys import (
    KeyEntry,
    KeyRegistry,
    KeyUse,
    RegisteredKey,
    key_id_for,
    private_key_path,
    raw_public,
)
from streams.domain.private_key_files import BACKUP_DOC, load_private_key

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


class KeyRing:
    """The private keys an owner holds, a folder per institution, chosen by the key registry.

    Signing keys are ``folder/<institution>/*.pem``; encryption keys are in the subfolder
    ``encryption/`` (:mod:`streams.domain.decryption_keys`).
    """

    def __init__(
        self,
        folder: Path,
        registry: KeyRegistry,
        held: dict[str, list[SigningKey]] | None = None,
        held_decryption: dict[str, X25519PrivateKey] | None = None,
    ) -> None:
        """Keys under ``folder`` (or ``held`` by institution and ``held_decryption`` by key id)."""
        self.folder = folder
        self.registry = registry
        self._held: dict[str, list[SigningKey]] = dict(held or {})
        #: The key files read so far, by institution.
        self._read_paths: dict[str, set[Path]] = {}
        self._decryption = DecryptionKeys(folder, registry, held_decryption)

    @classmethod
    def generated(cls, principals: Iterable[str], valid_from: datetime) -> KeyRing:
        """A ring of fresh keys, a signing and an encryption key per principal, and their registry.

        For the connector contract suite, tests and benchmarks: nothing is written to disk.
        """
        held: dict[str, list[SigningKey]] = {}
        held_decryption: dict[str, X25519PrivateKey] = {}
        entries: list[RegisteredKey] = []
        for principal in principals:
            private = Ed25519PrivateKey.generate()
            key = SigningKey(key_id_for(principal, raw_public(private.public_key())), private)
            held[principal] = [key]
            entries.append(KeyEntry(key.key_id, principal, private.public_key(), valid_from))
            opener, entry = generated_encryption_key(principal, valid_from)
            held_decryption[entry.id] = opener
            entries.append(entry)
        return cls(Path("/nonexistent"), KeyRegistry(entries), held, held_decryption)

    def decryption_key(self, institution: str, key_id: str) -> X25519PrivateKey:
        """The private encryption key ``key_id`` of ``institution``, to open what was sealed to it.

        Found by id whatever its validity today: old records open with the key of their time.

        Raises:
            streams.domain.decryption_keys.DecryptionKeyError: the registry does not list
                ``key_id`` as an encryption key of ``institution``, or this ring holds no
                readable private key matching it (the message names the folder and the fix).
        """
        return self._decryption.key(institution, key_id)

    def signing_key(self, institution: str, moment: datetime) -> SigningKey:
        """The key of ``institution`` the registry says is valid at ``moment``.

        During a rotation two keys are valid: the one valid from later is the new one, so it
        signs. A key revoked by now signs nothing, whatever ``moment``: the hub refuses what
        reaches it after a key's revocation, however early the event is dated (a backlog read
        again after a leak).

        Raises:
            SigningKeyError: no key held is registered, valid at ``moment`` and not revoked.
        """
        now = datetime.now(UTC)
        valid: dict[str, KeyEntry] = {
            entry.id: entry
            for entry in self.registry.valid_keys(institution, moment)
            if entry.revoked_on_arrival(now) is None
        }
        held = self._signing_keys(institution, valid)
        candidates = [key for key in held if key.key_id in valid]
        if not candidates:
            raise SigningKeyError(self._no_valid_key(institution, held, moment))
        return max(candidates, key=lambda key: valid[key.key_id].valid_from)

    def unusable(self, institution: str) -> str | None:
        """Why no key of ``institution`` held here can sign anything, and the fix; or None.

        None held, or none the registry lists: said when a connector starts, not at the
        first record it signs, which may come hours later.
        """
        held = self._signing_keys(institution, ())
        registered = {entry.id for entry in self.registry.entries()}
        if any(key.key_id in registered for key in held):
            return None
        return self._no_valid_key(institution, held, datetime.now(UTC))

    def _signing_keys(self, institution: str, valid: Collection[str]) -> list[SigningKey]:
        """The signing keys of ``institution`` held, read from its folder when needed.

        Read the first time, and again while the registry names a valid key none of them is,
        so a key made (``kawal keys new``) and registered while the process runs signs without
        a restart (the process reads the registry itself again when its file changes:
        :class:`~streams.domain.registry_watch.RegistryWatch`). Files read before are not
        read again.
        """
        held = self._held.get(institution)
        if held is not None and set(valid) <= {key.key_id for key in held}:
            return held
        read = self._read_paths.setdefault(institution, set())
        new_paths = sorted(set((self.folder / institution).glob("*.pem")) - read)
        found = [read_signing_key(path, institution, self.registry) for path in new_paths]
        read.update(new_paths)
        known = {key.key_id for key in held or []}
        held = self._held[institution] = [
            *(held or []),
            *(key for key in found if key.key_id not in known),
        ]
        return held

    def _no_valid_key(self, institution: str, held: list[SigningKey], moment: datetime) -> str:
        """Why none of the keys ``held`` of ``institution`` signs at ``moment``, and the fix."""
        folder = self.folder / institution
        make = f"`kawal keys new {institution} --use signing"
        registered = {entry.id: entry for entry in self.registry.entries()}
        dated = [registered[key.key_id] for key in held if key.key_id in registered]
        if not held:
            return self._none_held(institution, moment, make)
        others = _owners_elsewhere(self.registry, institution, held)
        if not dated and others:
            return (
                f"the private key in {folder} is {others[0]}'s, registered as {others[0]}'s, "
                f"not {institution}'s: each institution signs with its own key; make one with "
                f"{make}` and {self.registry.where_to_register()}"
            )
        if not dated:
            return (
                f"the private keys of {institution} in {folder} "
                f"({', '.join(key.key_id for key in held)}) are in no entry of the key "
                f"registry: {self.registry.where_to_register()} (`kawal keys new` printed it)"
            )
        windows = "; ".join(_validity(entry) for entry in dated)
        return (
            f"no private key of {institution} in {folder} is valid at {moment.isoformat()}, "
            f"the event's time, and not revoked since: {windows}. An event is signed with a "
            "key valid at its event_time (a key revoked signs nothing more, however early the "
            f"event): make one valid then with {make} --valid-from <a date or date-time "
            f"no later than the event's>` and {self.registry.where_to_register()}"
        )

    def _none_held(self, institution: str, moment: datetime, make: str) -> str:
        """Why an institution whose folder holds no key signs nothing, and the fix."""
        folder = self.folder / institution
        valid = self.registry.valid_keys(institution, moment)
        if not valid:
            return (
                f"no private key of {institution} is in {folder}; make one with {make}` and "
                f"{self.registry.where_to_register()}"
            )
        # The key is still good, only its file is gone: a new key would be a needless rotation.
        entry = max(valid, key=lambda entry: entry.valid_from)
        return (
            f"no private key of {institution} is in {folder}, but the registered key "
            f"{entry.id} is valid at {moment.isoformat()}: restore its file "
            f"{private_key_path(self.folder, entry.id, KeyUse.SIGNING)} (mode 0600) from the "
            f"backup of the keys folder ({BACKUP_DOC}) rather than make a new key"
        )


def _owners_elsewhere(registry: KeyRegistry, institution: str, held: list[SigningKey]) -> list[str]:
    """The other institutions whose registered keys are those ``held`` for ``institution``."""
    fingerprints = {key.key_id.rpartition("/")[2] for key in held}
    return sorted(
        {
            entry.institution
            for entry in registry.entries()
            if entry.institution != institution and entry.id.rpartition("/")[2] in fingerprints
        }
    )


def _validity(entry: KeyEntry) -> str:
    """When the registered key ``entry`` signs, in words."""
    text = f"{entry.id} is registered valid from {entry.valid_from.isoformat()}"
    if entry.valid_until is not None:
        text += f" until {entry.valid_until.isoformat()}"
    if entry.revoked_at is not None:
        text += f", revoked at {entry.revoked_at.isoformat()}"
    return text
