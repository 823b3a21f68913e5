"""Signed events and feed entries as the hub makes them, for connector tests.

A connector's tests, and the contract suite (:mod:`connectors.contract`), need what the hub
sends: entries chained, signed by their sender and vouched for by the hub. These helpers make
them in process with fresh keys (:func:`contract_keyring`), nothing written to disk.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from connectors.base import ConnectorContext
from connectors.contract_registry import contract_institutions, require_registered
from schemas.codec import AvroCodec
from streams.domain.chain import GENESIS_HASH, EntryFields, entry_hash, whole_millis
from streams.domain.entries import EntryProblem, open_feed_disclosures, vouch
from streams.domain.feed_keys import encrypt_for_feed, new_feed_key
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.keys import KeyRefusal
from streams.domain.sealing import SealingKey, open_sealed
from streams.domain.signed_events import sign_event
from streams.topics import inbound_topic

#: From when the suite's keys are valid: before any event a test makes.
KEYS_VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)

_keyring: list[KeyRing] = []
# A connector under test runs in a thread beside the test that feeds it: both must get the one
# keyring, or the connector sees entries vouched for by a hub key it does not know.
_keyring_made = threading.Lock()


def contract_keyring() -> KeyRing:
    """Fresh keys of the hub and every institution of the suite, with their registry.

    The institutions are those of the registry in force (``KAWAL_INSTITUTIONS_FILE``) and the
    bundled ones (:func:`connectors.contract_registry.contract_institutions`). Made once per
    process, whichever thread asks first.
    """
    with _keyring_made:
        if not _keyring:
            principals = [HUB_INSTITUTION, *(inst.id for inst in contract_institutions())]
            _keyring.append(KeyRing.generated(principals, KEYS_VALID_FROM))
        return _keyring[0]


def signed_event_of(codec: AvroCodec, value: bytes) -> dict[str, Any]:
    """The event inside a signed inbound record (personal data committed)."""
    return codec.decode(codec.decode(value).record["event"]).record


def feed_entry_record(
    context: ConnectorContext, event_type: str, record: dict[str, Any], recipient: str
) -> dict[str, Any]:
    """The ``kawal.AuditEntry`` the hub would route to ``recipient`` as a case's first entry.

    The event is signed by its source, the entry vouched for by the hub and every disclosure
    sealed to ``recipient``, with the keys of :func:`contract_keyring`.
    """
    return signed_entry(context.codec, event_type, record, 1, GENESIS_HASH, recipient=recipient)


def feed_disclosures(
    context: ConnectorContext, entry: dict[str, Any], recipient: str
) -> list[dict[str, str]]:
    """The disclosures of a feed entry, opened as ``recipient``'s connector opens them."""
    opened = open_feed_disclosures(context.catalog, contract_keyring(), recipient, entry)
    if isinstance(opened, EntryProblem):
        raise ValueError(f"{opened.code}: {opened.detail}")
    return opened


def signed_entry(
    codec: AvroCodec,
    event_type: str,
    record: dict[str, Any],
    seq: int,
    prev_hash: str,
    ring: KeyRing | None = None,
    recipient: str | None = None,
) -> dict[str, Any]:
    """The ``kawal.AuditEntry`` of ``record`` at ``seq`` after ``prev_hash``, as the hub makes it.

    Signed by the event's source, vouched for by the hub, with the keys of ``ring`` (default
    :func:`contract_keyring`). Every disclosure is under a feed key sealed to ``recipient`` (its
    feed's view, :mod:`streams.domain.feed_keys`), or
    with no recipient in clear, as the hub holds the entry in memory.

    Raises:
        connectors.contract_registry.UnregisteredInstitutionError: with the suite's keys, the
            event's source or ``recipient`` is in no registry the suite reads.
    """
    envelope = record["envelope"]
    if ring is None:
        for party in (envelope["source"], recipient):
            if party is not None:
                require_registered(party)
    ring = ring or contract_keyring()
    sender = ring.signing_key(envelope["source"], envelope["event_time"])
    hub = hub_sealing_key(ring.registry, envelope["event_time"])
    signed = sign_event(codec.catalog, codec, sender, event_type, record, hub)
    fields = EntryFields(
        case_id=envelope["case_id"],
        seq=seq,
        prev_hash=prev_hash,
        recorded_at=whole_millis(datetime.now(UTC)),
        source_topic=inbound_topic(envelope["source"]),
        source_partition=0,
        source_offset=seq - 1,
        key_id=signed["key_id"],
        signature=signed["signature"],
        event=signed["event"],
    )
    hash_hex = entry_hash(fields)
    hub_key = ring.signing_key(HUB_INSTITUTION, fields.recorded_at)
    hub_key_id, hub_signature = vouch(hub_key, hash_hex)
    disclosures = _opened_by_hub(codec, ring, signed)
    entry = vars(fields) | {
        "event_id": envelope["event_id"],
        "event_type": envelope["event_type"],
        "hash": hash_hex,
        "disclosures": disclosures,
        "sealed_disclosures": [],
        "vaulted_disclosures": b"",
        "hub_key_id": hub_key_id,
        "hub_signature": hub_signature,
    }
    if recipient is None or not disclosures:
        return entry
    found = ring.registry.encryption_key(recipient, fields.recorded_at)
    if isinstance(found, KeyRefusal):
        raise ValueError(found.detail)
    feed_key = new_feed_key(SealingKey(recipient, found.id, found.public_key))
    item = encrypt_for_feed(codec.catalog, disclosures, feed_key, fields.event)
    return entry | {"disclosures": [], "feed_disclosures": [item]}


def _opened_by_hub(codec: AvroCodec, ring: KeyRing, signed: dict[str, Any]) -> list[dict[str, str]]:
    """The disclosures a signed event sealed to the hub, opened with the hub's key."""
    if not signed["sealed_disclosures"]:
        return []
    item = signed["sealed_disclosures"][0]
    private = ring.decryption_key(HUB_INSTITUTION, item["key_id"])
    return open_sealed(codec.catalog, item, private, signed["event"])
