"""What a registered public key is: its owner, its use and the period it is valid in.

A signing key (:class:`KeyEntry`, Ed25519) vouches for what its institution signs; an encryption
key (:class:`EncryptionKeyEntry`, X25519) is what data for its institution is sealed to. Both are
dated alike (:meth:`DatedKey.problem_at`), and each way one cannot be used at a moment is a
:class:`KeyRefusal` with a reason code. The registry of them is :mod:`streams.domain.keys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar, Generic, TypeAlias, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from schemas.errors import KawalError

PublicT = TypeVar("PublicT", Ed25519PublicKey, X25519PublicKey)


class KeyRegistryError(KawalError):
    """The key registry cannot be read or holds an entry that cannot be used."""


class KeyProblem(StrEnum):
    """Why a key cannot be used: ingress's reason codes, and sealing's (no encryption key)."""

    UNKNOWN = "unknown_key"
    OTHER_INSTITUTION = "key_of_another_institution"
    NOT_YET_VALID = "key_not_yet_valid"
    EXPIRED = "key_expired"
    REVOKED = "key_revoked"
    NO_ENCRYPTION_KEY = "no_encryption_key"


class KeyUse(StrEnum):
    """What a registered key is for: an entry's ``use`` (absent means signing)."""

    SIGNING = "signing"
    ENCRYPTION = "encryption"


@dataclass(frozen=True)
class KeyRefusal:
    """A key that cannot be used at a moment (or no key at all), and why (no personal data)."""

    problem: KeyProblem
    detail: str


@dataclass(frozen=True)
class DatedKey(Generic[PublicT]):
    """One registered public key and the period it is valid in, whatever the key is for."""

    id: str
    institution: str
    public_key: PublicT
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    reason: str | None = None

    use: ClassVar[KeyUse]
    #: What a refusal tells the key's user to do instead: with the current key, with the key
    #: of the right time, with a key not revoked. A revocation's ``reason`` is the custodian's
    #: note for the hub's operators, never told: whoever uses a revoked key may have stolen it.
    _use_current: ClassVar[str]
    _use_dated: ClassVar[str]
    _use_unrevoked: ClassVar[str]

    def problem_at(self, moment: datetime) -> KeyRefusal | None:
        """Why this key cannot be used at ``moment``; None when it can."""
        if self.revoked_at is not None and moment >= self.revoked_at:
            return KeyRefusal(
                KeyProblem.REVOKED,
                f"key {self.id} was revoked at {self.revoked_at.isoformat()}; "
                f"{self._use_unrevoked}",
            )
        if moment < self.valid_from:
            return KeyRefusal(
                KeyProblem.NOT_YET_VALID,
                f"key {self.id} is valid from {self.valid_from.isoformat()} only, not at "
                f"{_instant(moment)}; {self._use_dated}",
            )
        if self.valid_until is not None and moment >= self.valid_until:
            return KeyRefusal(
                KeyProblem.EXPIRED,
                f"key {self.id} expired at {self.valid_until.isoformat()}, before "
                f"{_instant(moment)}; {self._use_current}",
            )
        return None

    def revoked_on_arrival(self, received: datetime) -> KeyRefusal | None:
        """Why this key vouches for nothing that reached the hub at ``received``; None if it may.

        A revoked key may have leaked, and whoever holds it chooses the time an event claims:
        dated before the revocation, it would pass :meth:`problem_at`. So what arrives at or
        after ``revoked_at`` is refused whatever its own time says.
        """
        if self.revoked_at is None or received < self.revoked_at:
            return None
        return KeyRefusal(
            KeyProblem.REVOKED,
            f"key {self.id} was revoked at {self.revoked_at.isoformat()} and this reached the "
            f"hub at {received.isoformat()}, after that, whatever time it claims; "
            f"{self._use_unrevoked}",
        )


@dataclass(frozen=True)
class KeyEntry(DatedKey[Ed25519PublicKey]):
    """A registered Ed25519 signing key: it vouches for what its institution signs."""

    use: ClassVar[KeyUse] = KeyUse.SIGNING
    _use_current: ClassVar[str] = "sign with the institution's current key"
    _use_dated: ClassVar[str] = (
        "sign with the key valid at the event's time (envelope.event_time, in milliseconds "
        "since the Unix epoch); where none is (a backlog older than every key not revoked), "
        "have the hub's operator register a key made with `kawal keys new INSTITUTION "
        "--valid-from` that time"
    )
    _use_unrevoked: ClassVar[str] = (
        "sign with the institution's newer key; where it has none, its key custodian makes one "
        "(`kawal keys new INSTITUTION`) and has the hub's operator register it"
    )


@dataclass(frozen=True)
class EncryptionKeyEntry(DatedKey[X25519PublicKey]):
    """A registered X25519 encryption key: data for its institution is sealed to it."""

    use: ClassVar[KeyUse] = KeyUse.ENCRYPTION
    _use_current: ClassVar[str] = "seal to the institution's current encryption key"
    _use_dated: ClassVar[str] = "seal to the encryption key valid at the time of sealing"
    _use_unrevoked: ClassVar[str] = _use_current


#: An entry of the registry, of either kind.
RegisteredKey: TypeAlias = KeyEntry | EncryptionKeyEntry


def _instant(moment: datetime) -> str:
    """``moment`` in UTC to the millisecond, as events date themselves."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
