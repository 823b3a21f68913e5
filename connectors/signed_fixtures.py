"""Signed events and feed entries as the hub makes them, for connector tests.

A connector's tests, and the contract suite (:mod:`connectors.contract`), need what the hub
sends: entries chained, signed by their sender and vouched for by the hub. These helpers make
them in process with fresh keys (:func:`contract_keyring`), nothing written to disk.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from connectors.base import ConnectorContext
from schemas.codec import AvroCodec
from streams.domain.chain import GENESIS_HASH, EntryFields, entry_hash, whole_millis
from streams.domain.entries import vouch
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.signed_events import sign_event
from streams.domain.signing import KeyRing
from streams.topics import inbound_topic

#: From when the suite's keys are valid: before any event a test makes.
KEYS_VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)


@cache
def contract_keyring() -> KeyRing:
    """Fresh keys of the hub and every registered institution, with their registry."""
    principals = [HUB_INSTITUTION, *(inst.id for inst in load_institutions())]
    return KeyRing.generated(principals, KEYS_VALID_FROM)


def signed_event_of(codec: AvroCodec, value: bytes) -> dict[str, Any]:
    """The event inside a signed inbound record (personal data committed)."""
    return codec.decode(codec.decode(value).record["event"]).record


def feed_entry_record(
    context: ConnectorContext, event_type: str, record: dict[str, Any]
) -> dict[str, Any]:
    """The ``kawal.AuditEntry`` the hub would route for ``record`` as a case's first entry.

    The event is signed by its source and the entry vouched for by the hub, with the keys of
    :func:`contract_keyring`.
    """
    return signed_entry(context.codec, event_type, record, 1, GENESIS_HASH)


def signed_entry(
    codec: AvroCodec,
    event_type: str,
    record: dict[str, Any],
    seq: int,
    prev_hash: str,
    ring: KeyRing | None = None,
) -> dict[str, Any]:
    """The ``kawal.AuditEntry`` of ``record`` at ``seq`` after ``prev_hash``, as the hub makes it.

    Signed by the event's source, vouched for by the hub, with the keys of ``ring`` (default
    :func:`contract_keyring`); its disclosures are all of them.
    """
    ring = ring or contract_keyring()
    envelope = record["envelope"]
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
    return vars(fields) | {
        "event_id": envelope["event_id"],
        "event_type": envelope["event_type"],
        "hash": hash_hex,
        "disclosures": signed["disclosures"],
        "hub_key_id": hub_key_id,
        "hub_signature": hub_signature,
    }
