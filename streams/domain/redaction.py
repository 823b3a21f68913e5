"""The redaction policy: who may see which personal data, and how the chain survives redaction.

Every personal-data field of an event (schema attribute ``kawal.personal_data``) is replaced in
the chained bytes by a salted commitment, ``sha256:`` + hex SHA-256(salt ‖ UTF-8 value). The
values travel beside the entry as *disclosures* (field, salt, value). An institution receives
only the disclosures its role entitles it to; the entry's hash covers the committed bytes, so
the full and every redacted view verify against the same chain, and a disclosure is checked
by recomputing its commitment.

The salt is an HMAC of the hub's redaction key over the event id and field, so a redelivered
event gets byte-identical commitments, and nobody without the key can test guesses of a NIP.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec

COMMITMENT_PREFIX = "sha256:"

#: Roles that may see a personal-data field, for the fields that are stricter than the default.
#: The reporter must be safe from retaliation by the reported official's superiors (the PPK).
ENTITLED_ROLES: dict[str, frozenset[str]] = {
    "reporter_identity": frozenset({"election_supervisor", "recommending_authority"}),
}

#: Roles that may see any other personal-data field of a case they are party to.
DEFAULT_ENTITLED_ROLES = frozenset(
    {
        "election_supervisor",
        "recommending_authority",
        "personnel_agency",
        "ppk",
        "regional_inspectorate",
        "appeals_body",
    }
)


def salt_for(key: bytes, event_id: str, field: str) -> str:
    """Hex salt of one field's commitment."""
    return hmac.digest(key, f"{event_id}/{field}".encode(), "sha256").hex()


def commitment(salt: str, value: str) -> str:
    """The committed form of a personal-data value."""
    return COMMITMENT_PREFIX + hashlib.sha256(bytes.fromhex(salt) + value.encode()).hexdigest()


def commit(
    catalog: SchemaCatalog, codec: AvroCodec, key: bytes, full_name: str, record: dict[str, Any]
) -> tuple[bytes, list[dict[str, str]]]:
    """The event's committed canonical bytes and the disclosures of its personal data."""
    event_id = record["envelope"]["event_id"]
    committed = dict(record)
    disclosures: list[dict[str, str]] = []
    for field in catalog.personal_data_fields(full_name):
        value = record.get(field)
        if not isinstance(value, str):
            continue  # absent (null) values reveal nothing and stay as they are
        salt = salt_for(key, event_id, field)
        committed[field] = commitment(salt, value)
        disclosures.append({"field": field, "salt": salt, "value": value})
    return codec.encode_canonical(full_name, committed, checked=False), disclosures


def entitled(field: str, roles: Iterable[str]) -> bool:
    """Whether an institution acting in ``roles`` may see ``field``."""
    return bool(set(roles) & ENTITLED_ROLES.get(field, DEFAULT_ENTITLED_ROLES))


def reveal(record: dict[str, Any], disclosures: list[dict[str, str]]) -> dict[str, Any]:
    """The record with disclosed values in place of their commitments.

    Raises:
        ValueError: a disclosure does not match the commitment in the record (tampered).
    """
    revealed = dict(record)
    for item in disclosures:
        if record.get(item["field"]) != commitment(item["salt"], item["value"]):
            raise ValueError(f"disclosure of {item['field']} does not match its commitment")
        revealed[item["field"]] = item["value"]
    return revealed
