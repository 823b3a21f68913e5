"""Signed events (docs/signing.md): what a sender publishes, and how the hub opens it.

A sender commits the personal data of its event (:mod:`streams.domain.commitments`), encodes
the committed record (Avro single-object encoding), signs exactly those bytes with its key
(context ``kawal.event.v1``) and publishes them in a ``kawal.SignedEvent`` with its key id and
the disclosures sealed to the hub (:mod:`streams.domain.sealing`): personal data never crosses
the broker in clear. The hub chains and stores the signed bytes unchanged, so whoever holds the
sender's public key verifies every view of the entry.

:func:`sign_event` is the sender's half, used by the connector runtime and the publisher;
:func:`open_signed`, :func:`authenticate` and :func:`unseal` the hub's, used by ingress before
anything else is believed of the event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import SINGLE_OBJECT_MAGIC, AvroCodec, CodecError, Decoded
from schemas.errors import KawalError
from streams.domain.commitments import check_disclosures, commit
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyProblem, KeyRefusal, KeyRegistry
from streams.domain.reasons import Reason, Rejection
from streams.domain.sealing import DecryptionKeys, SealingKey, open_sealed, seal
from streams.domain.signing import Context, SigningKey, verify

SIGNED_EVENT = "kawal.SignedEvent"
EVENT_NAMESPACE = "kawal.events."
#: The signing format this hub writes and reads: 2, disclosures sealed to the hub. Format 1
#: (disclosures in clear) is refused.
FORMAT = 2

_KEY_REASONS = {
    KeyProblem.UNKNOWN: Reason.UNKNOWN_KEY,
    KeyProblem.OTHER_INSTITUTION: Reason.KEY_OF_ANOTHER_INSTITUTION,
    KeyProblem.NOT_YET_VALID: Reason.KEY_NOT_YET_VALID,
    KeyProblem.EXPIRED: Reason.KEY_EXPIRED,
    KeyProblem.REVOKED: Reason.KEY_REVOKED,
}


def sign_event(
    catalog: SchemaCatalog,
    codec: AvroCodec,
    key: SigningKey,
    name: str,
    record: dict[str, Any],
    hub: SealingKey,
) -> dict[str, Any]:
    """The ``kawal.SignedEvent`` of event ``name`` (short or full name), signed by ``key``.

    The disclosures of its personal data are sealed to ``hub``, the hub's encryption key.

    Raises:
        schemas.codec.SchemaMismatchError: the record does not fit its schema.
    """
    full_name = catalog.message_name(name)
    committed, disclosures = commit(catalog, full_name, record)
    event = codec.encode_canonical(full_name, committed)
    return {
        "format": FORMAT,
        "event": event,
        "key_id": key.key_id,
        "signature": key.sign(Context.EVENT, event),
        "disclosures": [],
        "sealed_disclosures": [seal(catalog, disclosures, hub, event)] if disclosures else [],
    }


def encode_signed(
    catalog: SchemaCatalog,
    codec: AvroCodec,
    key: SigningKey,
    name: str,
    record: dict[str, Any],
    hub: SealingKey,
) -> bytes:
    """The bytes to publish for event ``name``: its signed record in the codec's wire format."""
    signed = sign_event(catalog, codec, key, name, record, hub)
    return codec.encode(SIGNED_EVENT, signed, checked=False)


@dataclass(frozen=True)
class SignedEvent:
    """A signed event as received: the committed event decoded, and what vouches for it."""

    #: The committed event, decoded (personal-data fields hold commitments).
    decoded: Decoded
    #: The exact bytes the sender signed: what the trail chains and stores.
    event: bytes
    key_id: str
    signature: bytes
    #: Disclosures in clear: empty as received (format 2 seals them), filled by :func:`unseal`.
    disclosures: list[dict[str, str]]
    #: The disclosures sealed to their readers, as received.
    sealed: list[dict[str, Any]]

    @property
    def envelope(self) -> dict[str, Any]:
        """The committed event's envelope."""
        envelope: dict[str, Any] = self.decoded.record["envelope"]
        return envelope


def open_signed(codec: AvroCodec, wrapper: Decoded) -> SignedEvent | Rejection:
    """The event inside a decoded inbound record, or why it is not a signed event."""
    if wrapper.full_name != SIGNED_EVENT and not wrapper.full_name.startswith(EVENT_NAMESPACE):
        return Rejection(
            Reason.NOT_AN_EVENT,
            f"{wrapper.full_name} is not a case event; publish signed kawal.events.* records",
        )
    if wrapper.full_name != SIGNED_EVENT:
        return Rejection(
            Reason.UNSIGNED,
            f"{wrapper.full_name} arrived unsigned; publish every event inside a "
            f"{SIGNED_EVENT} signed with the institution's key (docs/signing.md)",
        )
    record = wrapper.record
    if record["disclosures"]:
        return Rejection(
            Reason.DISCLOSURES_IN_CLEAR,
            "the record carries personal data in clear; seal the disclosures to the hub's "
            f"encryption key (signing format {FORMAT}, docs/signing.md) and publish them only "
            "sealed",
        )
    if record["format"] != FORMAT:
        return Rejection(
            Reason.UNSIGNED,
            f"signing format {record['format']} is unknown to this hub, which reads format "
            f"{FORMAT} (docs/signing.md)",
        )
    event: bytes = record["event"]
    if not event.startswith(SINGLE_OBJECT_MAGIC):
        return Rejection(
            Reason.UNDECODABLE,
            "the signed event is not Avro single-object encoded (0xC3 0x01 and the schema "
            "fingerprint); sign the single-object encoding, never a registry-framed one",
        )
    try:
        decoded = codec.decode(event)
    except CodecError as exc:
        return Rejection(Reason.UNDECODABLE, f"the signed event cannot be read: {exc}")
    return SignedEvent(
        decoded, event, record["key_id"], record["signature"], [], record["sealed_disclosures"]
    )


def authenticate(
    keys: KeyRegistry, signed: SignedEvent, received: datetime | None = None
) -> Rejection | None:
    """Why the signed event is not its source's, as it stands; None when it is.

    The key must be the source's and valid at the event's time, not revoked by ``received``
    (when the event's record reached the broker), and the signature must hold over the
    event's bytes.
    """
    envelope = signed.envelope
    if not signed.signature:
        return Rejection(
            Reason.UNSIGNED, "the event carries no signature; sign it (docs/signing.md)"
        )
    moment: datetime = envelope["event_time"]
    found = keys.key_for(envelope["source"], signed.key_id, moment, received)
    if isinstance(found, KeyRefusal):
        return Rejection(_KEY_REASONS[found.problem], found.detail)
    if not verify(found.public_key, Context.EVENT, signed.event, signed.signature):
        return Rejection(
            Reason.BAD_SIGNATURE,
            f"the signature does not verify with key {signed.key_id} over the event's bytes; "
            f"sign the ASCII context {Context.EVENT.value.decode()!r}, one zero byte, then the "
            "event bytes exactly as published in `event`, with the key you name "
            "(docs/signing.md)",
        )
    return None


def unseal(
    catalog: SchemaCatalog, signed: SignedEvent, keys: DecryptionKeys
) -> SignedEvent | Rejection:
    """The signed event with its disclosures opened by the hub's key, or why they cannot be.

    An event without personal data seals nothing; one that has any seals its disclosures once,
    to the hub. The disclosures must open exactly the commitments of its personal data.
    """
    opened = _open_for_hub(catalog, signed, keys)
    if isinstance(opened, Rejection):
        return opened
    problem = check_disclosures(catalog, signed.decoded.full_name, signed.decoded.record, opened)
    if problem is not None and problem.reason is Reason.DISCLOSURE_MISMATCH and not signed.sealed:
        # With nothing sealed the only mismatch is a missing disclosure: say where they go, or
        # the sender puts them in `disclosures`, which is refused as in clear.
        return Rejection(
            problem.reason,
            f"{problem.detail}: sealed_disclosures is empty; seal the disclosures to the hub's "
            "encryption key (docs/signing.md, Sealing disclosures)",
        )
    return problem or replace(signed, disclosures=opened)


def sealed_to_revoked_key(
    keys: KeyRegistry, signed: SignedEvent, received: datetime | None
) -> Rejection | None:
    """Why disclosures sealed to a revoked hub key are refused; None when they are not.

    A revoked key may have leaked: personal data sealed to it after its revocation (that
    reached the broker later) is readable by whoever holds it, and the sender, working from
    an old copy of the key registry, would go on sealing to it unless told.
    """
    if not signed.sealed or received is None:
        return None
    entry = keys.encryption_entry(signed.sealed[0]["key_id"])
    refusal = entry.revoked_on_arrival(received) if entry is not None else None
    if refusal is None:
        return None
    return Rejection(
        Reason.KEY_REVOKED,
        f"the disclosures are sealed to a revoked encryption key: {refusal.detail} (the key "
        "registry names the hub's current one); fetch the registry again",
    )


def _open_for_hub(
    catalog: SchemaCatalog, signed: SignedEvent, keys: DecryptionKeys
) -> list[dict[str, str]] | Rejection:
    if not signed.sealed:
        return []
    if len(signed.sealed) > 1 or signed.sealed[0]["recipient"] != HUB_INSTITUTION:
        return Rejection(
            Reason.NOT_SEALED_TO_HUB,
            "seal the disclosures once, to the hub's encryption key (recipient "
            f"{HUB_INSTITUTION!r}); the hub seals each reader's share itself",
        )
    sealed = signed.sealed[0]
    try:
        private = keys.decryption_key(HUB_INSTITUTION, sealed["key_id"])
        return open_sealed(catalog, sealed, private, signed.event)
    except KawalError as exc:
        return Rejection(Reason.UNSEALABLE, f"{exc}; seal to the hub's current encryption key")
