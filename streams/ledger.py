"""Ledger agent: ``kawal.case.events`` → ``kawal.case.audit``.

Gives every accepted event its per-case sequence number and chains it:
``hash = SHA-256(prev_hash ‖ committed event bytes)``, the canonical bytes with personal data
replaced by salted commitments (:mod:`streams.redaction`); the values travel as disclosures.
The case state lives in the Faust table
``cases`` (changelog-backed, so it survives restarts). An event already in the case, as after
a crash between the table update and the offset commit, is re-emitted with its original
sequence number and hash; the audit sink is idempotent on ``(case_id, seq)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import faust

from monitoring.metrics import Outcome, Stage
from schemas.codec import CodecError
from streams.chain import GENESIS_HASH, chain_hash
from streams.dlq import dead_letter, reason_for_codec_error, register_per_event
from streams.headers import SOURCE_HEADER, header_value
from streams.receipts import acceptance_receipt, send_receipt
from streams.redaction import commit

if TYPE_CHECKING:
    from streams.hub import Hub


@dataclass
class CaseState:
    """What the ledger keeps per case: the chain's hashes and where each event sits in it."""

    hashes: list[str] = field(default_factory=list)
    seq_of: dict[str, int] = field(default_factory=dict)
    last_event_type: str = ""

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest entry (0 for a new case)."""
        return len(self.hashes)

    def prev_hash(self, seq: int) -> str:
        """Hash of the entry before ``seq``."""
        return self.hashes[seq - 2] if seq > 1 else GENESIS_HASH

    def to_json(self) -> dict[str, Any]:
        """Table value (JSON-serializable)."""
        return {
            "hashes": self.hashes,
            "seq_of": self.seq_of,
            "last_event_type": self.last_event_type,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> CaseState:
        """Rebuild from a table value; None is a new case."""
        if not value:
            return cls()
        return cls(list(value["hashes"]), dict(value["seq_of"]), value["last_event_type"])


def register(hub: Hub) -> None:
    """Attach the ledger agent to the hub's app."""
    register_per_event(hub, hub.case_events, "kawal.ledger", Stage.LEDGER, handle)


async def handle(hub: Hub, message: faust.types.Message) -> None:
    """Sequence, chain and publish one accepted event."""
    event_bytes = message.value or b""
    try:
        decoded = hub.codec.decode(event_bytes)
    except CodecError as exc:
        await dead_letter(hub, Stage.LEDGER, reason_for_codec_error(exc), str(exc), message)
        return
    envelope = decoded.record["envelope"]
    case_id, event_id = envelope["case_id"], envelope["event_id"]
    # The chain covers the committed form, so redacted views verify too (streams.redaction).
    committed, disclosures = commit(
        hub.catalog, hub.codec, hub.redaction_key, decoded.full_name, decoded.record
    )
    state = CaseState.from_json(hub.cases.get(case_id))
    seq = state.seq_of.get(event_id)
    if seq is None:
        seq = state.last_seq + 1
        state.hashes.append(chain_hash(state.prev_hash(seq), committed))
        state.seq_of[event_id] = seq
        state.last_event_type = envelope["event_type"]
        hub.cases[case_id] = state.to_json()
        hub.metrics.count(Stage.LEDGER, Outcome.ACCEPTED)
    else:
        hub.metrics.count(Stage.LEDGER, Outcome.DUPLICATE)
    entry = audit_entry(state, seq, envelope, committed, message) | {"disclosures": disclosures}
    await hub.case_audit.send(
        key=message.key, value=hub.codec.encode("kawal.AuditEntry", entry, checked=False)
    )
    source = (entry["source_topic"], entry["source_partition"], entry["source_offset"])
    receipt = acceptance_receipt(source, envelope, seq, entry["hash"])
    key = message.key if isinstance(message.key, bytes) else None
    await send_receipt(hub, envelope["source"], key, receipt)


def audit_entry(
    state: CaseState,
    seq: int,
    envelope: dict[str, Any],
    event_bytes: bytes,
    message: faust.types.Message,
) -> dict[str, Any]:
    """The ``kawal.AuditEntry`` record of the event at ``seq``."""
    source = header_value(message.headers, SOURCE_HEADER) or f"{message.topic}:0:0"
    topic, partition, offset = source.rsplit(":", 2)
    return {
        "case_id": envelope["case_id"],
        "seq": seq,
        "event_id": envelope["event_id"],
        "event_type": envelope["event_type"],
        "prev_hash": state.prev_hash(seq),
        "hash": state.hashes[seq - 1],
        "event": event_bytes,
        "recorded_at": datetime.now(UTC),
        "source_topic": topic,
        "source_partition": int(partition),
        "source_offset": int(offset),
    }
