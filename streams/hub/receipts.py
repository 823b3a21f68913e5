"""Receipts: every record an institution publishes is answered on its own outbound feed.

Accepted events are answered by the ledger, with the event's sequence number and chain hash;
refused records by ingress, with the rejection reason. A receipt carries no personal data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.codec import AvroCodec
from streams.domain.reasons import Rejection


def rejection_receipt(
    rejection: Rejection, source: tuple[str, int, int], envelope: dict[str, Any] | None
) -> dict[str, Any]:
    """A ``kawal.Receipt`` for a refused record (``envelope`` None if undecodable)."""
    return _receipt("REJECTED", source, envelope) | {
        "reason_code": str(rejection.reason),
        "reason": rejection.detail,
    }


def acceptance_receipt(
    source: tuple[str, int, int], envelope: dict[str, Any], seq: int, chain_hash: str
) -> dict[str, Any]:
    """A ``kawal.Receipt`` for an event sequenced at ``seq``."""
    return _receipt("ACCEPTED", source, envelope) | {"seq": seq, "hash": chain_hash}


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
        "issued_at": datetime.now(UTC),
    }


def receipt_value(codec: AvroCodec, receipt: dict[str, Any]) -> bytes:
    """A receipt's bytes on the wire."""
    return codec.encode("kawal.Receipt", receipt, checked=False)
