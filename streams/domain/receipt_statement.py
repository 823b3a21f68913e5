"""What the hub signs of a rejection receipt: ``kawal.statement.RejectionV1`` (docs/signing.md).

The hub signs it (:mod:`streams.hub.receipts`); the sender's connectors check it
(:mod:`connectors.receipts`).
"""

from __future__ import annotations

from typing import Any

from schemas.statements import REJECTION, fits, statement_bytes
from streams.domain.chain import epoch_millis

#: The receipt's fields the statement holds, besides ``issued_at`` (in epoch milliseconds).
SIGNED_FIELDS = (
    "event_id",
    "case_id",
    "event_type",
    "reason_code",
    "reason",
    "source_topic",
    "source_partition",
    "source_offset",
    "head_seq",
    "head_hash",
)


def rejection_statement(receipt: dict[str, Any]) -> bytes:
    """What the hub signs of a rejection receipt."""
    return statement_bytes(REJECTION, _signed(receipt))


def rejection_statement_of(receipt: dict[str, Any]) -> bytes | None:
    """What the hub signed of a receipt read from a feed, or None.

    None: no receipt the hub signed has these fields (a forged one: a field the hub always
    fills left empty).
    """
    signed = _signed(receipt)
    return statement_bytes(REJECTION, signed) if fits(REJECTION, signed) else None


def _signed(receipt: dict[str, Any]) -> dict[str, Any]:
    signed = {name: receipt[name] for name in SIGNED_FIELDS}
    return signed | {"issued_at": epoch_millis(receipt["issued_at"])}
