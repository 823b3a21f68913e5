"""Feed disclosures: a recipient's share of an entry, encrypted under its current feed key.

Sealing every feed record with HPKE costs an ephemeral X25519 key pair and a Diffie-Hellman per
record and recipient, the largest part of the hub's work per event. So the hub draws a random
feed key per recipient and epoch, seals that key once to the recipient's encryption key with
HPKE (RFC 9180 base mode, the suite of :mod:`streams.domain.sealing`), and encrypts each record's
disclosures with ChaCha20-Poly1305 under it, bound to the record's event like an HPKE seal:

- grant: HPKE ``info`` = ``kawal.feed_key.v1 ‖ 0x00 ‖ recipient ‖ 0x00 ‖ key id``, plaintext the
  32-byte feed key;
- record: ChaCha20-Poly1305 under the feed key, a random 12-byte nonce, AAD =
  ``kawal.disclosures.v1 ‖ 0x00 ‖ SHA-256(event)`` (:func:`streams.domain.sealing.info_for`).

Every record carries the sealed feed key, so it opens on its own (replays, a connector started
afresh); a reader keeps the feed keys it opened (:class:`OpenedFeedKeys`) and pays the HPKE open
once per epoch. Opening never shows a value in an error: it fails as a whole, naming the key.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from schemas.catalog import SchemaCatalog
from streams.domain.sealing import (
    ENCAPSULATED_KEY_BYTES,
    SUITE,
    Disclosures,
    SealingError,
    SealingKey,
    decode_disclosures,
    encode_disclosures,
    info_for,
)

GRANT_CONTEXT = b"kawal.feed_key.v1"
FEED_KEY_BYTES = 32
NONCE_BYTES = 12
#: Feed keys a reader keeps opened; an epoch's records mostly share one per recipient.
OPENED_KEPT = 256


@dataclass
class FeedKey:
    """A recipient's feed key of one epoch, with its grant: the key sealed to the recipient."""

    to: SealingKey
    encapsulated_key: bytes
    sealed_feed_key: bytes
    aead: ChaCha20Poly1305
    #: Records encrypted under it so far (the epoch ends after a bounded number).
    used: int = field(default=0)


def grant_info(recipient: str, key_id: str) -> bytes:
    """The HPKE ``info`` that binds a sealed feed key to its recipient and key."""
    return GRANT_CONTEXT + b"\x00" + recipient.encode() + b"\x00" + key_id.encode()


def new_feed_key(to: SealingKey) -> FeedKey:
    """A fresh random feed key for ``to``, sealed to its public encryption key."""
    key = ChaCha20Poly1305.generate_key()
    sealed = SUITE.encrypt(key, to.public_key, info=grant_info(to.recipient, to.key_id))
    return FeedKey(
        to=to,
        encapsulated_key=sealed[:ENCAPSULATED_KEY_BYTES],
        sealed_feed_key=sealed[ENCAPSULATED_KEY_BYTES:],
        aead=ChaCha20Poly1305(key),
    )


def encrypt_for_feed(
    catalog: SchemaCatalog, disclosures: Disclosures, key: FeedKey, event: bytes
) -> dict[str, Any]:
    """The ``kawal.FeedDisclosures`` record of ``disclosures`` under ``key``, bound to ``event``."""
    nonce = os.urandom(NONCE_BYTES)
    plain = encode_disclosures(catalog, disclosures)
    key.used += 1
    return {
        "recipient": key.to.recipient,
        "key_id": key.to.key_id,
        "encapsulated_key": key.encapsulated_key,
        "sealed_feed_key": key.sealed_feed_key,
        "nonce": nonce,
        "ciphertext": key.aead.encrypt(nonce, plain, info_for(event)),
    }


class OpenedFeedKeys:
    """The feed keys a reader has opened, so each grant costs one HPKE open, not one a record.

    A key is found again only with the same private key: the cache is keyed by a digest of the
    private key too, so a reader never opens with a key it could not have opened itself. Safe
    across threads (connectors may read feeds from several).
    """

    def __init__(self, kept: int = OPENED_KEPT) -> None:
        """Keep at most ``kept`` opened feed keys, the least recently used dropped first."""
        self._kept = kept
        self._opened: OrderedDict[tuple[bytes, bytes, bytes], ChaCha20Poly1305] = OrderedDict()
        self._lock = threading.Lock()

    def aead(self, item: dict[str, Any], private: X25519PrivateKey) -> ChaCha20Poly1305:
        """The feed key ``item`` names, opened with ``private``.

        Raises:
            SealingError: the sealed feed key does not open with this key.
        """
        holder = hashlib.sha256(private.private_bytes_raw()).digest()
        slot = (holder, item["encapsulated_key"], item["sealed_feed_key"])
        with self._lock:
            found = self._opened.get(slot)
            if found is not None:
                self._opened.move_to_end(slot)
                return found
        try:
            key = SUITE.decrypt(
                item["encapsulated_key"] + item["sealed_feed_key"],
                private,
                info=grant_info(item["recipient"], item["key_id"]),
            )
        except (InvalidTag, ValueError) as exc:
            raise SealingError(
                f"the feed key sealed to key {item['key_id']} does not open with it: sealed to "
                "another key or recipient, or altered on the way"
            ) from exc
        if len(key) != FEED_KEY_BYTES:
            raise SealingError(f"the feed key sealed to key {item['key_id']} is not 32 bytes")
        found = ChaCha20Poly1305(key)
        with self._lock:
            self._opened[slot] = found
            if len(self._opened) > self._kept:
                self._opened.popitem(last=False)
        return found


def open_feed_item(
    catalog: SchemaCatalog,
    item: dict[str, Any],
    private: X25519PrivateKey,
    event: bytes,
    opened: OpenedFeedKeys,
) -> Disclosures:
    """The disclosures of a ``kawal.FeedDisclosures`` item for ``event``, opened with ``private``.

    Raises:
        SealingError: the feed key or the disclosures do not open for this key and event, or
            what they hold is not an array of disclosures.
    """
    aead = opened.aead(item, private)
    try:
        plain = aead.decrypt(item["nonce"], item["ciphertext"], info_for(event))
    except (InvalidTag, ValueError) as exc:
        raise SealingError(
            f"the disclosures under the feed key sealed to key {item['key_id']} do not open "
            "for this event: encrypted for another event, or altered on the way"
        ) from exc
    try:
        return decode_disclosures(catalog, plain)
    except ValueError as exc:
        raise SealingError(
            f"the disclosures under the feed key sealed to key {item['key_id']} are not an "
            "Avro array of kawal.Disclosure"
        ) from exc
