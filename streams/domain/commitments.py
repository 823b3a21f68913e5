"""Salted commitments: how a sender hides personal data in the event it signs.

Before signing, the sender replaces the value of every personal-data field (schema attribute
``kawal.personal_data``) by ``sha256:`` + hex SHA-256(salt ‖ UTF-8 value), with a fresh random
salt of :data:`SALT_BYTES` bytes per field, and keeps the value and salt as a *disclosure*
(field, salt, value). The signed bytes then show nothing of the value, and without its salt a
commitment cannot be tested against guesses of a NIP (the SD-JWT idea). Whoever receives a
disclosure checks it against the commitment in the signed event: the hub on arrival, every
reader on display.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from typing import Any

from schemas.catalog import SchemaCatalog
from streams.domain.reasons import Reason, Rejection

COMMITMENT_PREFIX = "sha256:"
COMMITMENT_FORM = re.compile(re.escape(COMMITMENT_PREFIX) + "[0-9a-fA-F]{64}")
_BARE_DIGEST = re.compile("[0-9a-fA-F]{64}")
#: Bytes of a salt: 128 bits, so no guess of a value can be tested against a commitment.
SALT_BYTES = 16


def commitment(salt: str, value: str) -> str:
    """The committed form of a personal-data value under a hex ``salt``."""
    return COMMITMENT_PREFIX + hashlib.sha256(bytes.fromhex(salt) + value.encode()).hexdigest()


def is_commitment(value: Any) -> bool:
    """Whether ``value`` has the form of a commitment: the prefix and 64 hex digits.

    Upper-case digits still have the form, so the sender is told its slip (a commitment is
    lower-case); anything else in a personal-data field is a value in clear.
    """
    return isinstance(value, str) and COMMITMENT_FORM.fullmatch(value) is not None


def commit(
    catalog: SchemaCatalog, full_name: str, record: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The record with its personal data committed, and the disclosures of the values."""
    committed = dict(record)
    disclosures: list[dict[str, str]] = []
    for field in catalog.personal_data_fields(full_name):
        value = record.get(field)
        if not isinstance(value, str):
            continue  # absent (null) values reveal nothing and stay as they are
        salt = secrets.token_hex(SALT_BYTES)
        committed[field] = commitment(salt, value)
        disclosures.append({"field": field, "salt": salt, "value": value})
    return committed, disclosures


def check_disclosures(
    catalog: SchemaCatalog,
    full_name: str,
    committed: dict[str, Any],
    disclosures: Iterable[dict[str, str]],
) -> Rejection | None:
    """Why a signed event and its disclosures cannot be taken; None when they match.

    Every personal-data field with a value must hold a commitment, and have exactly one
    disclosure that opens it; nothing else may be disclosed. Details name fields, never values.
    """
    personal = catalog.personal_data_fields(full_name)
    for field in personal:
        value = committed.get(field)
        if value is not None and not is_commitment(value):
            # 64 hex digits alone is a digest without its prefix: say so, not "in clear".
            slip = (
                f": it holds 64 hex digits without the {COMMITMENT_PREFIX!r} prefix, which a "
                "commitment starts with"
                if isinstance(value, str) and _BARE_DIGEST.fullmatch(value)
                else ""
            )
            return Rejection(
                Reason.PERSONAL_DATA_IN_CLEAR,
                f"{field} is personal data but holds no commitment{slip}; commit it before "
                "signing (docs/signing.md) and send the value as a disclosure",
            )
    seen: set[str] = set()
    for item in disclosures:
        field = item["field"]
        if field not in personal:
            return Rejection(
                Reason.NOT_PERSONAL_DATA,
                f"a disclosure names {field}, which is not a personal-data field of "
                f"{full_name}; send other fields in the signed event itself",
            )
        problem = _disclosure_problem(field, item, committed.get(field), field in seen)
        if problem is not None:
            return Rejection(Reason.DISCLOSURE_MISMATCH, problem)
        seen.add(field)
    missing = [
        field for field in personal if committed.get(field) is not None and field not in seen
    ]
    if missing:
        return Rejection(
            Reason.DISCLOSURE_MISMATCH,
            f"no disclosure for the committed field {missing[0]}; send one per commitment",
        )
    return None


def _disclosure_problem(
    field: str, item: dict[str, str], committed: Any, repeated: bool
) -> str | None:
    if repeated:
        return f"{field} is disclosed twice; send one disclosure per field"
    try:
        salt = bytes.fromhex(item["salt"])
    except ValueError:
        return (
            f"the salt of {field} is not hex: write the salt's bytes as hex digits "
            f"({2 * SALT_BYTES} or more), not base64 or text"
        )
    if len(salt) < SALT_BYTES:
        return f"the salt of {field} has {len(salt)} bytes; draw at least {SALT_BYTES} at random"
    if not isinstance(committed, str) or not hmac.compare_digest(
        committed, commitment(item["salt"], item["value"])
    ):
        return (
            f"the disclosure of {field} does not open its commitment in the signed event"
            f"{_likely_slip(committed, item)}; commit as 'sha256:' + lower-case hex of "
            "SHA-256(the salt's bytes || the value's UTF-8 bytes) (docs/signing.md)"
        )
    return None


def _likely_slip(committed: Any, item: dict[str, str]) -> str:
    """The known way a sender's commitment went wrong, if it is one; else nothing."""
    if not isinstance(committed, str):
        return ""
    if committed.lower() == commitment(item["salt"], item["value"]):
        return ": it is written in upper-case hex"
    over_text = hashlib.sha256((item["salt"] + item["value"]).encode()).hexdigest()
    if hmac.compare_digest(committed.lower(), COMMITMENT_PREFIX + over_text):
        return ": it hashes the salt's hex text instead of the salt's bytes"
    return ""


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
