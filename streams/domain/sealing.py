"""Sealed disclosures: personal data readable only by the reader it is sealed to.

The disclosures of an event (field, salt, value) are encoded as an Avro array of
``kawal.Disclosure`` and sealed with HPKE (RFC 9180, base mode) to one reader's X25519
encryption key: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305. The HPKE ``info``
binds the seal to the event it belongs to, ``kawal.disclosures.v1 ‖ 0x00 ‖ SHA-256(event)``,
so a sealed item moved onto another event does not open. The sender seals to the hub; the hub
seals each recipient's share again, to that recipient. Opening never shows a value in an error:
it fails as a whole, naming the key.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, cast

import fastavro
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from fastavro.types import Schema

from schemas.catalog import SchemaCatalog
from schemas.errors import KawalError

SEALED_DISCLOSURES = "kawal.SealedDisclosures"
#: The HPKE suite of format 2 (docs/signing.md).
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
#: Bytes of the encapsulated key of DHKEM(X25519): an ephemeral public key.
ENCAPSULATED_KEY_BYTES = 32
INFO_CONTEXT = b"kawal.disclosures.v1"
PAYLOAD_CONTEXT = b"kawal.dead_letter.v1"

Disclosures = list[dict[str, str]]


class SealingError(KawalError):
    """Sealed disclosures cannot be opened: wrong key, another event's seal, or tampered."""


class DecryptionKeys(Protocol):
    """The private encryption keys a reader holds (:class:`streams.domain.keyring.KeyRing`)."""

    def decryption_key(self, institution: str, key_id: str) -> X25519PrivateKey:
        """The private key ``key_id`` of ``institution``; raises KawalError if not held."""
        ...


@dataclass(frozen=True)
class SealingKey:
    """A reader's public encryption key, as the registry lists it."""

    recipient: str
    key_id: str
    public_key: X25519PublicKey


def seal(
    catalog: SchemaCatalog, disclosures: Disclosures, to: SealingKey, event: bytes
) -> dict[str, Any]:
    """The ``kawal.SealedDisclosures`` record of ``disclosures`` for ``to``, bound to ``event``."""
    plain = encode_disclosures(catalog, disclosures)
    sealed = SUITE.encrypt(plain, to.public_key, info=info_for(event))
    return {
        "recipient": to.recipient,
        "key_id": to.key_id,
        "encapsulated_key": sealed[:ENCAPSULATED_KEY_BYTES],
        "ciphertext": sealed[ENCAPSULATED_KEY_BYTES:],
    }


def open_sealed(
    catalog: SchemaCatalog, sealed: dict[str, Any], private: X25519PrivateKey, event: bytes
) -> Disclosures:
    """The disclosures sealed in ``sealed`` to ``private``'s public key for ``event``.

    Raises:
        SealingError: the ciphertext does not open with this key for this event, or what it
            holds is not an array of disclosures.
    """
    ciphertext = sealed["encapsulated_key"] + sealed["ciphertext"]
    try:
        plain = SUITE.decrypt(ciphertext, private, info=info_for(event))
    except (InvalidTag, ValueError) as exc:
        raise SealingError(
            f"the disclosures sealed to key {sealed['key_id']} do not open with it for this "
            "event: sealed to another key or event, or altered on the way (HPKE base mode, "
            "empty AAD, info 'kawal.disclosures.v1', a zero byte, then the SHA-256 of the "
            "event bytes exactly as in `event`: docs/signing.md, Sealing disclosures)"
        ) from exc
    try:
        return decode_disclosures(catalog, plain)
    except ValueError as exc:
        raise SealingError(
            f"the disclosures sealed to key {sealed['key_id']} are not an Avro array of "
            "kawal.Disclosure"
        ) from exc


def seal_payload(payload: bytes, to: SealingKey, coordinates: str) -> bytes:
    """A refused record's bytes sealed to ``to`` (the hub), bound to its source coordinates.

    ``coordinates`` is ``topic:partition:offset``; the result is HPKE ``enc || ciphertext``.
    """
    return SUITE.encrypt(payload, to.public_key, info=_payload_info(coordinates))


def open_payload(sealed: bytes, private: X25519PrivateKey, coordinates: str) -> bytes:
    """The bytes :func:`seal_payload` sealed for the record at ``coordinates``.

    Raises:
        SealingError: another key, another record's seal, or altered.
    """
    try:
        return SUITE.decrypt(sealed, private, info=_payload_info(coordinates))
    except (InvalidTag, ValueError) as exc:
        raise SealingError(
            f"the payload of the dead letter of {coordinates} does not open with this key"
        ) from exc


def _payload_info(coordinates: str) -> bytes:
    return PAYLOAD_CONTEXT + b"\x00" + coordinates.encode()


def info_for(event: bytes) -> bytes:
    """The HPKE ``info`` that binds a seal to the committed bytes of its event."""
    return INFO_CONTEXT + b"\x00" + hashlib.sha256(event).digest()


def encode_disclosures(catalog: SchemaCatalog, disclosures: Disclosures) -> bytes:
    """Disclosures as the Avro binary array of ``kawal.Disclosure`` that is sealed."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, _array_schema(catalog), disclosures)
    return buffer.getvalue()


def decode_disclosures(catalog: SchemaCatalog, plain: bytes) -> Disclosures:
    """The disclosures of :func:`encode_disclosures`'s bytes.

    Raises:
        ValueError: the bytes are not exactly one such array.
    """
    buffer = io.BytesIO(plain)
    try:
        decoded = fastavro.schemaless_reader(buffer, _array_schema(catalog), None)
    except (EOFError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError("not an Avro array of kawal.Disclosure") from exc
    if buffer.tell() != len(plain):
        raise ValueError("bytes after the array of kawal.Disclosure")
    return cast(Disclosures, decoded)


@cache
def _array_schema(catalog: SchemaCatalog) -> Schema:
    # Parsed once per catalog: an array whose items are the catalog's kawal.Disclosure.
    item = catalog.schema("kawal.Disclosure")
    return fastavro.parse_schema({"type": "array", "items": item})
