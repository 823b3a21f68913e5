"""The dated registry of public keys (``data/keys.toml``): signing and encryption keys.

Each institution, and the hub itself (``kawal``), signs with Ed25519 keys and receives data
sealed (HPKE, RFC 9180) to its X25519 encryption keys. Every public half is listed here with the
period it is valid in: ``valid_from`` (inclusive), an optional ``valid_until`` (exclusive) and,
for a key withdrawn early, ``revoked_at`` with the reason; an entry's ``use`` says which kind it
is (absent: signing, as in registries written before encryption keys). Rotation is two entries
whose periods overlap, so events signed just before the switch still verify. A signing key is
asked for by id and institution at the event's time, an encryption key by institution at the
time of sealing; every way either can fail is a :class:`KeyRefusal` with a reason code, never an
exception: a refused key is a rejected event, not a broken hub. Private keys never appear here;
:func:`new_key_pair` and :func:`new_encryption_key_pair` make them for ``kawal keys new``
(:mod:`streams.cli.keys`), which writes each where the institution keeps it
(:func:`private_key_path`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

# The entries' model lives in its own module; the registry's users import it from here too.
from streams.domain.key_entries import DatedKey as DatedKey
from streams.domain.key_entries import EncryptionKeyEntry as EncryptionKeyEntry
from streams.domain.key_entries import KeyEntry as KeyEntry
from streams.domain.key_entries import KeyProblem as KeyProblem
from streams.domain.key_entries import KeyRefusal as KeyRefusal
from streams.domain.key_entries import KeyRegistryError as KeyRegistryError
from streams.domain.key_entries import KeyUse as KeyUse
from streams.domain.key_entries import RegisteredKey as RegisteredKey
from streams.domain.key_pieces import read_key_tables

#: Fields of a registry entry; anything else (a private key above all) is refused.
FIELDS = frozenset(
    {"id", "institution", "use", "public_key", "valid_from", "valid_until", "revoked_at", "reason"}
)
#: Longest key id: the audit store's column for the key that signed each entry.
MAX_KEY_ID_LENGTH = 128
ED25519_PUBLIC_KEY_BYTES = 32
X25519_PUBLIC_KEY_BYTES = 32
#: Subfolder of an institution's key folder holding its private encryption keys, apart from the
#: signing keys beside it (the key ring reads every ``*.pem`` there as a signing key).
ENCRYPTION_FOLDER = "encryption"


class KeyRegistry:
    """Every registered public key, by id: signing keys and encryption keys."""

    def __init__(
        self, entries: Iterable[RegisteredKey], source: Path | None = None, *, bundled: bool = False
    ) -> None:
        """Index ``entries`` by id, and by institution.

        Args:
            entries: the registered keys.
            source: the file they were read from, named when an entry must be added to it.
            bundled: they are the bundled registry (``streams/data/keys.toml``).

        Raises:
            KeyRegistryError: two entries share an id.
        """
        self.source = source
        self.bundled = bundled
        self._by_id: dict[str, RegisteredKey] = {}
        # Senders and the router ask for an institution's keys on every event: with a national
        # registry (thousands of keys), a scan of all of them each time would dominate.
        self._by_institution: dict[str, list[RegisteredKey]] = {}
        for entry in entries:
            if entry.id in self._by_id:
                raise KeyRegistryError(f"key id {entry.id} is registered twice; ids are unique")
            self._by_id[entry.id] = entry
            self._by_institution.setdefault(entry.institution, []).append(entry)

    def __len__(self) -> int:
        return len(self._by_id)

    def adopt(self, newer: KeyRegistry) -> None:
        """Hold ``newer``'s entries from now on: the file re-read (:mod:`.registry_watch`)."""
        self._by_id, self._by_institution = newer._by_id, newer._by_institution

    def entries(self) -> list[KeyEntry]:
        """Every registered signing key, in registry order."""
        return [entry for entry in self._by_id.values() if isinstance(entry, KeyEntry)]

    def encryption_entries(self) -> list[EncryptionKeyEntry]:
        """Every registered encryption key, in registry order."""
        return [entry for entry in self._by_id.values() if isinstance(entry, EncryptionKeyEntry)]

    def key_for(
        self,
        institution: str,
        key_id: str,
        moment: datetime,
        received: datetime | None = None,
    ) -> KeyEntry | KeyRefusal:
        """The signing key ``key_id`` if it vouches for ``institution`` at ``moment``, or why.

        ``received``, when given, is when what the key signed reached the hub (the broker's
        timestamp of its record): a key revoked by then vouches for nothing, whatever
        ``moment`` the signer claims (:meth:`DatedKey.revoked_on_arrival`).
        """
        entry = self._by_id.get(key_id)
        if entry is None:
            return KeyRefusal(
                KeyProblem.UNKNOWN,
                f"no key {key_id} in the key registry as this process last read it; register "
                "the institution's public key (kawal keys new prints the entry): the hub's "
                "worker and sink read the registry again when it changes, connectors before "
                "their next pass (docs/operations.md, Rotate keys); then send the record again "
                "(one the hub refused: kawal dlq replay --reason unknown_key)",
            )
        if isinstance(entry, EncryptionKeyEntry):
            # A key for receiving sealed data never vouches for anything signed.
            return KeyRefusal(
                KeyProblem.UNKNOWN,
                f"key {key_id} is an encryption key, not a signing key; sign with the "
                "institution's signing key",
            )
        if entry.institution != institution:
            return KeyRefusal(
                KeyProblem.OTHER_INSTITUTION,
                f"key {key_id} belongs to {entry.institution}, not to {institution}; each "
                "institution signs with its own key",
            )
        arrival = None if received is None else entry.revoked_on_arrival(received)
        return entry.problem_at(moment) or arrival or entry

    def valid_keys(self, institution: str, moment: datetime) -> list[KeyEntry]:
        """The signing keys of ``institution`` valid at ``moment`` (rotation: two)."""
        return [
            entry
            for entry in self._by_institution.get(institution, ())
            if isinstance(entry, KeyEntry) and entry.problem_at(moment) is None
        ]

    def encryption_key(self, institution: str, moment: datetime) -> EncryptionKeyEntry | KeyRefusal:
        """The encryption key to seal data for ``institution`` to at ``moment``, or why none.

        During a rotation two keys are valid: the one valid from later is the new one, so data
        is sealed to it.
        """
        valid = [
            entry
            for entry in self._by_institution.get(institution, ())
            if isinstance(entry, EncryptionKeyEntry) and entry.problem_at(moment) is None
        ]
        if not valid:
            return KeyRefusal(
                KeyProblem.NO_ENCRYPTION_KEY,
                f"{institution} has no encryption key valid at {moment.isoformat()} in the key "
                f"registry; make one with `kawal keys new {institution} --use encryption` and "
                "register the entry it prints",
            )
        return max(valid, key=lambda entry: entry.valid_from)

    def where_to_register(self) -> str:
        """What to do with a new key's entry so the hub finds it: the file in force, named."""
        if self.source is not None:
            return f"add its entry to the key registry in force, {self.source}"
        if self.bundled:
            return (
                "add its entry to a key registry of the hub's own and set KAWAL_KEYS_FILE to it "
                "(the bundled streams/data/keys.toml is in force)"
            )
        return "add its entry to the key registry"

    def signing_entry(self, key_id: str) -> KeyEntry | None:
        """The signing key ``key_id`` whatever its validity (who signed, not whether in time)."""
        entry = self._by_id.get(key_id)
        return entry if isinstance(entry, KeyEntry) else None

    def encryption_entry(self, key_id: str) -> EncryptionKeyEntry | None:
        """The encryption key ``key_id`` whatever its validity (old data opens with old keys)."""
        entry = self._by_id.get(key_id)
        return entry if isinstance(entry, EncryptionKeyEntry) else None


def load_key_registry(path: Path | None = None) -> KeyRegistry:
    """Read the registry from ``path`` (a file, or a folder of pieces), or the bundled one.

    Raises:
        KeyRegistryError: an unreadable file, a folder of pieces missing one or naming a key
            twice (:mod:`streams.domain.key_pieces`), or entries that cannot be used (all named
            at once).
    """
    entries, problems = [], []
    for table in read_key_tables(path):
        try:
            entries.append(parse_entry(table.item))
        except KeyRegistryError as exc:
            problems.append(f"{table.where}: {exc}")
    if problems:
        raise KeyRegistryError("; ".join(problems))
    return KeyRegistry(entries, path, bundled=path is None)


def parse_entry(item: dict[str, Any]) -> RegisteredKey:
    """One ``[[key]]`` table of the registry: a signing key, or an encryption key.

    Raises:
        KeyRegistryError: a missing or unknown field, an unknown use, a bad public key or bad
            dates.
    """
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise KeyRegistryError(
            f"unknown fields {unknown}; the registry holds public keys only, never a private key"
        )
    missing = sorted({"id", "institution", "public_key", "valid_from"} - set(item))
    if missing:
        raise KeyRegistryError(f"missing {missing}")
    key_id, institution, text = str(item["id"]), str(item["institution"]), str(item["public_key"])
    if not 0 < len(key_id) <= MAX_KEY_ID_LENGTH:
        raise KeyRegistryError(
            f"id {key_id[:40]!r} has {len(key_id)} characters; a key id has 1 to "
            f"{MAX_KEY_ID_LENGTH} (the audit store keeps it with every entry)"
        )
    dated = (
        _moment(item, "valid_from"),
        _moment(item, "valid_until") if "valid_until" in item else None,
        _moment(item, "revoked_at") if "revoked_at" in item else None,
        item.get("reason"),
    )
    entry: RegisteredKey = (
        EncryptionKeyEntry(key_id, institution, encryption_public_key_from_text(text), *dated)
        if _use(item) is KeyUse.ENCRYPTION
        else KeyEntry(key_id, institution, public_key_from_text(text), *dated)
    )
    if entry.valid_until is not None and entry.valid_until <= entry.valid_from:
        raise KeyRegistryError("valid_until must come after valid_from")
    if entry.revoked_at is not None and not entry.reason:
        raise KeyRegistryError("a revoked key needs the reason it was revoked")
    return entry


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """An Ed25519 (signing) public key from its 32 raw bytes in base64.

    Raises:
        KeyRegistryError: not base64, or not 32 bytes.
    """
    return Ed25519PublicKey.from_public_bytes(
        _raw_public_key(text, "an Ed25519", ED25519_PUBLIC_KEY_BYTES)
    )


def encryption_public_key_from_text(text: str) -> X25519PublicKey:
    """An X25519 (encryption) public key from its 32 raw bytes in base64.

    Raises:
        KeyRegistryError: not base64, or not 32 bytes.
    """
    return X25519PublicKey.from_public_bytes(
        _raw_public_key(text, "an X25519", X25519_PUBLIC_KEY_BYTES)
    )


def _raw_public_key(text: str, kind: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise KeyRegistryError("public_key is not base64") from exc
    if len(raw) != size:
        raise KeyRegistryError(f"public_key has {len(raw)} bytes; {kind} public key has {size}")
    return raw


def _use(item: dict[str, Any]) -> KeyUse:
    try:
        return KeyUse(item.get("use", KeyUse.SIGNING))
    except ValueError:
        raise KeyRegistryError(
            f"use must be one of {[use.value for use in KeyUse]} (absent: signing)"
        ) from None


def raw_public(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    """A public key's 32 raw bytes: what the registry holds in base64 and key ids hash."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_for(institution: str, public: bytes) -> str:
    """A key's registry id: its institution and the first 16 hex digits of SHA-256(public key)."""
    return f"{institution}/{hashlib.sha256(public).hexdigest()[:16]}"


def _moment(item: dict[str, Any], name: str) -> datetime:
    value = item[name]
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise KeyRegistryError(
            f"{name} must be a TOML date-time with its offset, e.g. 2026-12-04T00:00:00+07:00"
        )
    return value


def private_key_path(folder: Path, key_id: str, use: KeyUse) -> Path:
    """Where the owner keeps the private half of ``key_id`` under a key folder.

    ``folder/<institution>/<fingerprint>.pem`` for a signing key,
    ``folder/<institution>/encryption/<fingerprint>.pem`` for an encryption key.
    """
    institution, fingerprint = key_id.rsplit("/", 1)
    owned = folder / institution
    if use is KeyUse.ENCRYPTION:
        owned = owned / ENCRYPTION_FOLDER
    return owned / f"{fingerprint}.pem"


@dataclass(frozen=True)
class NewKey:
    """A fresh key pair: the private key's PEM for its owner, the entry for the registry."""

    key_id: str
    private_pem: bytes
    entry: dict[str, Any]
    use: KeyUse = KeyUse.SIGNING

    def registry_text(self) -> str:
        """The ``[[key]]`` table to add to the registry."""
        lines = ["[[key]]"]
        for name, value in self.entry.items():
            shown = value.isoformat() if isinstance(value, datetime) else f'"{value}"'
            lines.append(f"{name} = {shown}")
        return "\n".join(lines) + "\n"

    def path_in(self, folder: Path) -> Path:
        """Where the private key goes under the key folder ``folder``."""
        return private_key_path(folder, self.key_id, self.use)


def new_key_pair(
    institution: str, valid_from: datetime, valid_until: datetime | None = None
) -> NewKey:
    """An Ed25519 signing key pair for ``institution``, its id derived from the public key.

    The private key is PKCS#8 PEM, unencrypted: it is protected by its file's mode on the
    institution's own machine (a KMS or HSM is the production path).
    """
    return _new_key(institution, Ed25519PrivateKey.generate(), valid_from, valid_until)


def new_encryption_key_pair(
    institution: str, valid_from: datetime, valid_until: datetime | None = None
) -> NewKey:
    """An X25519 encryption key pair for ``institution``, its id derived from the public key.

    Data for ``institution`` is sealed to the public half (HPKE); the private half, PKCS#8 PEM
    kept like a signing key, opens it. The registry entry says ``use = "encryption"``.
    """
    return _new_key(institution, X25519PrivateKey.generate(), valid_from, valid_until)


def new_key_pair_for(
    use: KeyUse, institution: str, valid_from: datetime, valid_until: datetime | None = None
) -> NewKey:
    """A key pair of kind ``use``: :func:`new_key_pair` or :func:`new_encryption_key_pair`."""
    make = new_encryption_key_pair if use is KeyUse.ENCRYPTION else new_key_pair
    return make(institution, valid_from, valid_until)


def _new_key(
    institution: str,
    private: Ed25519PrivateKey | X25519PrivateKey,
    valid_from: datetime,
    valid_until: datetime | None,
) -> NewKey:
    use = KeyUse.ENCRYPTION if isinstance(private, X25519PrivateKey) else KeyUse.SIGNING
    public = raw_public(private.public_key())
    key_id = key_id_for(institution, public)
    entry: dict[str, Any] = {
        "id": key_id,
        "institution": institution,
        "use": use.value,
        "public_key": base64.b64encode(public).decode(),
        "valid_from": valid_from,
    }
    if valid_until is not None:
        entry["valid_until"] = valid_until
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return NewKey(key_id, pem, entry, use)
