"""The dated registry of signing keys (``data/keys.toml``): public keys only.

Each institution, and the hub itself (``kawal``), signs with Ed25519 keys whose public halves
are listed here with the period they are valid in: ``valid_from`` (inclusive), an optional
``valid_until`` (exclusive) and, for a key withdrawn early, ``revoked_at`` with the reason.
Rotation is two entries whose periods overlap, so events signed just before the switch still
verify. A key is asked for by id and institution at the event's time; every way it can fail
is a :class:`KeyRefusal` with a reason code, never an exception: a refused key is a rejected
event, not a broken hub. Private keys never appear here; :func:`new_key_pair` makes one for
``kawal keys new`` (:mod:`streams.cli.keys`), which writes it where the institution keeps it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from schemas.errors import KawalError
from streams.domain.data_files import read_toml

#: Fields of a registry entry; anything else (a private key above all) is refused.
FIELDS = frozenset(
    {"id", "institution", "public_key", "valid_from", "valid_until", "revoked_at", "reason"}
)
ED25519_PUBLIC_KEY_BYTES = 32


class KeyRegistryError(KawalError):
    """The key registry cannot be read or holds an entry that cannot be used."""


class KeyProblem(StrEnum):
    """Why a key cannot vouch for an event (the reason codes ingress will use)."""

    UNKNOWN = "unknown_key"
    OTHER_INSTITUTION = "key_of_another_institution"
    NOT_YET_VALID = "key_not_yet_valid"
    EXPIRED = "key_expired"
    REVOKED = "key_revoked"


@dataclass(frozen=True)
class KeyRefusal:
    """A key that cannot vouch for an event at its time, and why (no personal data)."""

    problem: KeyProblem
    detail: str


@dataclass(frozen=True)
class KeyEntry:
    """One registered public key and the period it is valid in."""

    id: str
    institution: str
    public_key: Ed25519PublicKey
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    reason: str | None = None

    def problem_at(self, moment: datetime) -> KeyRefusal | None:
        """Why this key cannot vouch for an event at ``moment``; None when it can."""
        if self.revoked_at is not None and moment >= self.revoked_at:
            return KeyRefusal(
                KeyProblem.REVOKED,
                f"key {self.id} was revoked at {self.revoked_at.isoformat()} ({self.reason}); "
                "sign with the institution's current key",
            )
        if moment < self.valid_from:
            return KeyRefusal(
                KeyProblem.NOT_YET_VALID,
                f"key {self.id} is valid from {self.valid_from.isoformat()} only; sign with the "
                "key valid at the event's time",
            )
        if self.valid_until is not None and moment >= self.valid_until:
            return KeyRefusal(
                KeyProblem.EXPIRED,
                f"key {self.id} expired at {self.valid_until.isoformat()}; sign with the "
                "institution's current key",
            )
        return None


class KeyRegistry:
    """Every registered public key, by id."""

    def __init__(self, entries: Iterable[KeyEntry]) -> None:
        """Index ``entries`` by id.

        Raises:
            KeyRegistryError: two entries share an id.
        """
        self._by_id: dict[str, KeyEntry] = {}
        for entry in entries:
            if entry.id in self._by_id:
                raise KeyRegistryError(f"key id {entry.id} is registered twice; ids are unique")
            self._by_id[entry.id] = entry

    def __len__(self) -> int:
        return len(self._by_id)

    def entries(self) -> list[KeyEntry]:
        """Every registered key, in registry order."""
        return list(self._by_id.values())

    def key_for(self, institution: str, key_id: str, moment: datetime) -> KeyEntry | KeyRefusal:
        """The key ``key_id`` if it vouches for ``institution`` at ``moment``, or why not."""
        entry = self._by_id.get(key_id)
        if entry is None:
            return KeyRefusal(
                KeyProblem.UNKNOWN,
                f"no key {key_id} in the key registry; register the institution's public key "
                "(kawal keys new prints the entry)",
            )
        if entry.institution != institution:
            return KeyRefusal(
                KeyProblem.OTHER_INSTITUTION,
                f"key {key_id} belongs to {entry.institution}, not to {institution}; each "
                "institution signs with its own key",
            )
        return entry.problem_at(moment) or entry

    def valid_keys(self, institution: str, moment: datetime) -> list[KeyEntry]:
        """The keys of ``institution`` that vouch for an event at ``moment`` (rotation: two)."""
        return [
            entry
            for entry in self._by_id.values()
            if entry.institution == institution and entry.problem_at(moment) is None
        ]


def load_key_registry(path: Path | None = None) -> KeyRegistry:
    """Read the registry from ``path``, or the bundled one.

    Raises:
        KeyRegistryError: unreadable file, or entries that cannot be used (all named at once).
    """
    try:
        raw = read_toml(path, "keys.toml")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise KeyRegistryError(
            f"cannot read the key registry {path or '(bundled)'}: {exc}; fix the file or unset "
            "KAWAL_KEYS_FILE"
        ) from exc
    entries, problems = [], []
    for index, item in enumerate(raw.get("key", []), start=1):
        try:
            entries.append(parse_entry(item))
        except KeyRegistryError as exc:
            problems.append(f"key entry #{index}: {exc}")
    if problems:
        raise KeyRegistryError("; ".join(problems))
    return KeyRegistry(entries)


def parse_entry(item: dict[str, Any]) -> KeyEntry:
    """One ``[[key]]`` table of the registry.

    Raises:
        KeyRegistryError: a missing or unknown field, a bad public key or bad dates.
    """
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise KeyRegistryError(
            f"unknown fields {unknown}; the registry holds public keys only, never a private key"
        )
    missing = sorted({"id", "institution", "public_key", "valid_from"} - set(item))
    if missing:
        raise KeyRegistryError(f"missing {missing}")
    entry = KeyEntry(
        id=str(item["id"]),
        institution=str(item["institution"]),
        public_key=public_key_from_text(str(item["public_key"])),
        valid_from=_moment(item, "valid_from"),
        valid_until=_moment(item, "valid_until") if "valid_until" in item else None,
        revoked_at=_moment(item, "revoked_at") if "revoked_at" in item else None,
        reason=item.get("reason"),
    )
    if entry.valid_until is not None and entry.valid_until <= entry.valid_from:
        raise KeyRegistryError("valid_until must come after valid_from")
    if entry.revoked_at is not None and not entry.reason:
        raise KeyRegistryError("a revoked key needs the reason it was revoked")
    return entry


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes in base64.

    Raises:
        KeyRegistryError: not base64, or not 32 bytes.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise KeyRegistryError("public_key is not base64") from exc
    if len(raw) != ED25519_PUBLIC_KEY_BYTES:
        raise KeyRegistryError(
            f"public_key has {len(raw)} bytes; an Ed25519 public key has {ED25519_PUBLIC_KEY_BYTES}"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


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


@dataclass(frozen=True)
class NewKey:
    """A fresh key pair: the private key's PEM for its owner, the entry for the registry."""

    key_id: str
    private_pem: bytes
    entry: dict[str, Any]

    def registry_text(self) -> str:
        """The ``[[key]]`` table to add to the registry."""
        lines = ["[[key]]"]
        for name, value in self.entry.items():
            shown = value.isoformat() if isinstance(value, datetime) else f'"{value}"'
            lines.append(f"{name} = {shown}")
        return "\n".join(lines) + "\n"


def new_key_pair(
    institution: str, valid_from: datetime, valid_until: datetime | None = None
) -> NewKey:
    """An Ed25519 key pair for ``institution``, its id derived from the public key.

    The private key is PKCS#8 PEM, unencrypted: it is protected by its file's mode on the
    institution's own machine (a KMS or HSM is the production path).
    """
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key_id = key_id_for(institution, public)
    entry: dict[str, Any] = {
        "id": key_id,
        "institution": institution,
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
    return NewKey(key_id, pem, entry)
