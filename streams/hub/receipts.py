"""Receipts: every record an institution publishes is answered on its own outbound feed.

Accepted events are answered by the ledger with the event's place in its case's trail (the
case's head after it) and the hub's signature of the entry's hash: the sender recomputes that
hash from what it sent and the receipt (docs/signing.md). Refused records are answered by
ingress with the reason and, for a known case, its current head, signed over the statement
``kawal.statement.RejectionV1``. A receipt carries no personal data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.codec import AvroCodec
from streams.domain.chain import whole_millis
from streams.domain.ledger import Link
from streams.domain.reasons import Rejection
from streams.domain.receipt_statement import rejection_statement
from streams.domain.signing import Context, SigningKey


def rejection_receipt(
    hub_key: SigningKey,
    rejection: Rejection,
    source: tuple[str, int, int],
    envelope: dict[str, Any] | None,
    head: tuple[int, str] | None,
) -> dict[str, Any]:
    """A signed ``kawal.Receipt`` for a refused record (``envelope`` None if undecodable)."""
    receipt = _receipt("REJECTED", source, envelope) | {
        "reason_code": str(rejection.reason),
        "reason": rejection.detail,
        "head_seq": head[0] if head else None,
        "head_hash": head[1] if head else None,
        "hub_key_id": hub_key.key_id,
    }
    receipt["hub_signature"] = hub_key.sign(Context.REJECTION, rejection_statement(receipt))
    return receipt


def acceptance_receipt(
    source: tuple[str, int, int],
    envelope: dict[str, Any],
    link: Link,
    recorded_at: datetime,
    hub_signature: tuple[str, bytes],
) -> dict[str, Any]:
    """A ``kawal.Receipt`` for an event chained at ``link``, vouched for as its entry is."""
    hub_key_id, signature = hub_signature
    return _receipt("ACCEPTED", source, envelope) | {
        "seq": link.seq,
        "hash": link.hash,
        "prev_hash": link.prev_hash,
        "recorded_at": recorded_at,
        "head_seq": link.seq,
        "head_hash": link.hash,
        "hub_key_id": hub_key_id,
        "hub_signature": signature,
    }


def _receipt(
    status: str, source: tuple[str, int, int], envelope: dict[str, Any] | None
) -> dict[str, Any]:
    topic, partition, offset = source
    return {
        "status": status,
        "event_id": envelope["event_id"] if envelope else None,
        "case_id": envelope["case_id"] if envelope else None,
        "event_type": envelope["event_type"] if envelope else None,
        "seq": None,
        "hash": None,
        "reason_code": None,
        "reason": None,
        "source_topic": topic,
        "source_partition": partition,
        "source_offset": offset,
        # Whole milliseconds: the signed statement and the Avro field hold the same instant.
        "issued_at": whole_millis(datetime.now(UTC)),
        "prev_hash": None,
        "recorded_at": None,
        "head_seq": None,
        "head_hash": None,
    }


def receipt_value(codec: AvroCodec, receipt: dict[str, Any]) -> bytes:
    """A receipt's bytes on the wire."""
    return codec.encode("kawal.Receipt", receipt, checked=False)
