"""Stores of both dialects filled with entries as the pipeline writes them, signed and chained.

Each entry holds a real ``ReportRegistered`` (no personal data, so no disclosures) signed by
its sender, hashed over its ``EntryV1`` statement and vouched for by the hub, so a store made
here passes ``kawal audit verify`` with the key registry, signatures included.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.envelope import envelope
from streams.audit.access_log import HubKeyAt
from streams.audit.store import AuditStore
from streams.domain.chain import GENESIS_HASH, EntryFields, entry_hash
from streams.domain.entries import vouch
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keyring import KeyRing
from streams.domain.signing import Context

SOURCE = "bawaslu.33"
VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)
EVENT_TIME = datetime(2024, 11, 4, 9, 0, tzinfo=UTC)
CODEC = AvroCodec(default_catalog())


def keyring() -> KeyRing:
    """Fresh keys of the hub and of the sender, with the registry listing them."""
    return KeyRing.generated([HUB_INSTITUTION, SOURCE], VALID_FROM)


def hub_key_at(ring: KeyRing | None = None) -> HubKeyAt:
    """The hub's key of ``ring`` (of fresh keys by default) to sign the access log with."""
    held = ring or keyring()
    return lambda moment: held.signing_key(HUB_INSTITUTION, moment)


def registry_toml(ring: KeyRing) -> str:
    """The ring's public keys as a key registry file (``KAWAL_KEYS_FILE``)."""
    tables = []
    for principal in (HUB_INSTITUTION, SOURCE):
        key = ring.signing_key(principal, EVENT_TIME)
        tables.append(
            f'[[key]]\nid = "{key.key_id}"\ninstitution = "{principal}"\n'
            f'public_key = "{key.public_text()}"\nvalid_from = {VALID_FROM.isoformat()}\n'
        )
    return "\n".join(tables)


def signed_rows(
    ring: KeyRing,
    case_id: str,
    count: int,
    *,
    start: int = 1,
    prev_hash: str | None = None,
    variant: str = "",
) -> list[dict[str, Any]]:
    """``count`` signed, chained rows of ``case_id`` from seq ``start``.

    Args:
        ring: The keys of the sender and the hub.
        case_id: The case.
        count: How many entries.
        start: The first entry's seq.
        prev_hash: The hash before it; by default the hash of the same chain's entry before.
        variant: Changes every event (another registration number), for forged histories.
    """
    if prev_hash is None:
        prev_hash = (
            GENESIS_HASH if start == 1 else signed_rows(ring, case_id, start - 1)[-1]["hash"]
        )
    sender = ring.signing_key(SOURCE, EVENT_TIME)
    hub = ring.signing_key(HUB_INSTITUTION, EVENT_TIME)
    rows = []
    for seq in range(start, start + count):
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case_id}/{seq}/{variant}"))
        record = {
            "envelope": envelope(
                event_id=event_id,
                case_id=case_id,
                event_type="ReportRegistered",
                event_time=EVENT_TIME,
                source=SOURCE,
                actor_ref=f"actor:{SOURCE}:test",
            ),
            "registration_number": f"Reg/{seq}{variant}",
            "registered_on": date(2024, 11, 4),
            "needed_more_information": False,
        }
        event = CODEC.encode_canonical("ReportRegistered", record)
        fields = EntryFields(
            case_id=case_id,
            seq=seq,
            prev_hash=prev_hash,
            recorded_at=datetime(2024, 11, 4, 9, seq % 60, tzinfo=UTC),
            source_topic=f"kawal.inbound.{SOURCE}",
            source_partition=0,
            source_offset=seq,
            key_id=sender.key_id,
            signature=sender.sign(Context.EVENT, event),
            event=event,
        )
        hashed = entry_hash(fields)
        hub_key_id, hub_signature = vouch(hub, hashed)
        rows.append(
            vars(fields)
            | {
                "event_id": event_id,
                "event_type": "ReportRegistered",
                "hash": hashed,
                "disclosures": "[]",
                "vaulted_disclosures": b"",
                "hub_key_id": hub_key_id,
                "hub_signature": hub_signature,
            }
        )
        prev_hash = hashed
    return rows


def rewrite_case(store: AuditStore, ring: KeyRing, case_id: str, from_seq: int) -> None:
    """What a forger holding the keys does: replace a case's entries from ``from_seq`` on,
    re-hash and re-sign them so the chain and every signature verify, and move the case's
    head to the new last hash, all in place."""
    trail = store.trail(case_id)
    prev = GENESIS_HASH if from_seq == 1 else trail[from_seq - 2].hash
    forged = signed_rows(
        ring, case_id, len(trail) - from_seq + 1, start=from_seq, prev_hash=prev, variant="-x"
    )
    columns = ("event_id", "prev_hash", "hash", "event", "signature", "hub_signature")
    with store.engine.begin() as conn:
        for row in forged:
            conn.execute(
                text(
                    "UPDATE audit_entries SET event_id = :event_id, prev_hash = :prev_hash, "
                    "hash = :hash, event = :event, signature = :signature, "
                    "hub_signature = :hub_signature WHERE case_id = :case_id AND seq = :seq"
                ),
                {name: row[name] for name in (*columns, "case_id", "seq")},
            )
        conn.execute(
            text("UPDATE case_heads SET last_hash = :hash WHERE case_id = :case_id"),
            {"hash": forged[-1]["hash"], "case_id": case_id},
        )
