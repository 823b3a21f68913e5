"""Key-encryption keys (KEKs): a ring of named 256-bit keys that wrap the cases' data keys.

The newest KEK of a :class:`KekRing` (the last listed) wraps; every KEK in it unwraps, so a
ring with an old and a new key reads data keys wrapped under either while ``kawal kek rewrap``
moves them to the new one.

Why AES-256-GCM and not RFC 3394 key wrap: a wrapped data key must be bound to its case. GCM
authenticates associated data, so the wrap of case A's key does not unwrap as case B's: a row
copied from one case to another in the vault (by someone who can write the database but holds
no KEK) is refused instead of making B's data readable with A's key, or keeping A's key alive
under B after A is erased. RFC 3394 and RFC 5649 take no associated data. The associated data
also names the KEK, so a wrapped key relabelled with another KEK id is refused too. The nonce
is random (96 bits); at the NIST bound of 2**32 random nonces per key a KEK would wrap four
billion data keys, far more than the hub will ever have cases.

:class:`KeyWrapper` is the seam for a cloud KMS or an HSM: anything with ``current_id``,
``wrap`` and ``unwrap`` can stand in for the ring (``docs/envelope-encryption.md``).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.errors import KawalError

__all__ = ["KEK_BYTES", "KekError", "KekRing", "KeyWrapper", "WrappedKey", "new_kek"]

#: Length of a KEK and of a data key: AES-256.
KEK_BYTES = 32
NONCE_BYTES = 12
#: A KEK id: letters, digits, '.', '_', '-'; never a comma or a colon (the KAWAL_KEK form).
KEK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Label of the associated data: a wrapped data key of this hub, format 1.
_AAD_LABEL = b"kawal.dek.v1\x00"


class KekError(KawalError):
    """A key-encryption key is missing, malformed, unknown, or a wrapped key does not unwrap."""


@dataclass(frozen=True)
class WrappedKey:
    """A data key wrapped under the KEK ``kek_id``: the nonce, then ciphertext and tag."""

    kek_id: str
    wrapped: bytes = field(repr=False)


class KeyWrapper(Protocol):
    """What the vault needs of its key-encryption keys: a KEK ring, a KMS or an HSM.

    ``current_id`` names the key that :meth:`wrap` uses now; :meth:`unwrap` takes a key wrapped
    under any key the wrapper still holds. Both bind the wrapped key to its case.
    """

    @property
    def current_id(self) -> str:
        """Id of the key new data keys are wrapped under."""
        ...

    def wrap(self, case_id: str, dek: bytes) -> WrappedKey:
        """Wrap ``dek``, the data key of ``case_id``, under the current key."""
        ...

    def unwrap(self, case_id: str, wrapped: WrappedKey) -> bytes:
        """The data key of ``case_id`` that ``wrapped`` holds.

        Raises:
            KekError: the key it names is unknown, or it was altered or belongs to another case.
        """
        ...


class KekRing:
    """Named 256-bit KEKs, oldest first: the last one wraps, all unwrap.

    Args:
        keys: ``(kek_id, key)`` pairs, oldest first.

    Raises:
        KekError: no key, an id not of letters, digits, '.', '_', '-', an id twice, or a key
            not of 32 bytes. Messages name ids and positions, never key bytes.
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise KekError("a KEK ring needs at least one key-encryption key")
        self._keys: dict[str, bytes] = {}
        for position, (kek_id, key) in enumerate(keys, start=1):
            _check_id(kek_id, position)
            if kek_id in self._keys:
                raise KekError(f"KEK id {kek_id!r} is listed twice; every KEK needs its own id")
            if len(key) != KEK_BYTES:
                raise KekError(
                    f"KEK {kek_id!r} is {len(key)} bytes; a KEK is {KEK_BYTES} random bytes"
                )
            self._keys[kek_id] = bytes(key)
        self._current = keys[-1][0]

    def __repr__(self) -> str:
        # Ids only: a ring printed in a traceback or a log must not show a key.
        return f"KekRing(ids={self.ids!r}, current={self._current!r})"

    @property
    def ids(self) -> list[str]:
        """The KEK ids, oldest first."""
        return list(self._keys)

    @property
    def current_id(self) -> str:
        """Id of the newest KEK, the one that wraps."""
        return self._current

    def wrap(self, case_id: str, dek: bytes) -> WrappedKey:
        """Wrap ``dek``, the data key of ``case_id``, under the newest KEK.

        Raises:
            KekError: ``dek`` is not 32 bytes.
        """
        if len(dek) != KEK_BYTES:
            raise KekError(f"a data key is {KEK_BYTES} bytes, not {len(dek)}")
        nonce = os.urandom(NONCE_BYTES)
        aead = AESGCM(self._keys[self._current])
        sealed = aead.encrypt(nonce, dek, _associated_data(self._current, case_id))
        return WrappedKey(self._current, nonce + sealed)

    def unwrap(self, case_id: str, wrapped: WrappedKey) -> bytes:
        """The data key of ``case_id`` held by ``wrapped``.

        Raises:
            KekError: ``wrapped`` names a KEK not in the ring, or it was altered, truncated,
                or wrapped for another case or under another key of the same id.
        """
        key = self._keys.get(wrapped.kek_id)
        if key is None:
            raise KekError(
                f"the data key of case {case_id} is wrapped under KEK {wrapped.kek_id!r}, which "
                f"is not in the ring ({', '.join(self.ids)}); add that KEK back (KAWAL_KEK or "
                "the KEK file) until `kawal kek rewrap` has moved every data key off it"
            )
        nonce, sealed = wrapped.wrapped[:NONCE_BYTES], wrapped.wrapped[NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, sealed, _associated_data(wrapped.kek_id, case_id))
        except (InvalidTag, ValueError) as exc:
            raise KekError(
                f"the data key of case {case_id} does not unwrap under KEK {wrapped.kek_id!r}: "
                "it was altered or copied from another case, or the KEK of that id was replaced"
            ) from exc


def new_kek(now: datetime | None = None) -> tuple[str, bytes]:
    """A fresh KEK: an id of its day and six random hex digits, and 32 random bytes."""
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"kek-{day}-{secrets.token_hex(3)}", AESGCM.generate_key(bit_length=256)


def _check_id(kek_id: str, position: int) -> None:
    if not KEK_ID.match(kek_id):
        # The id itself is not echoed: a key pasted in its place must not reach a log.
        raise KekError(
            f"KEK {position}: its id must be 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


def _associated_data(kek_id: str, case_id: str) -> bytes:
    # The id pattern has no NUL, so the KEK id ends where the case id begins.
    return _AAD_LABEL + kek_id.encode() + b"\x00" + case_id.encode()
